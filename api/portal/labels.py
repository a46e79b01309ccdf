"""The domain's words as the portal shows them, in both languages.

The domain names phases, roles and programmes in Chinese and writes its refusals in Chinese; the
portal shows those in Chinese as they are and, in English, the catalog's translation of the
Chinese. Refusals whose message carries values (a date, a name) are translated by their rule.
`N_` only marks a message for extraction (`make messages`), `NP_` one said in a context; the test checks that these lists
follow the domain's.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from aggregates.actor import Role
from aggregates.campaign import Phase, Programme
from aggregates.problems import Problem
from api.portal.i18n import Contextual, Speaker


def N_(message: str) -> str:
    return message


def NP_(context: str, message: str) -> str:
    """Marks a message said in a context (extracted as pgettext's, `make messages`)."""
    return Contextual(context, message)


PHASES = {
    Phase.REGISTRATION: N_("报名"),
    Phase.SUBMISSION: N_("成果申报"),
    Phase.RECOMMENDATION: N_("成果推荐"),
    Phase.FORMAL_REVIEW: N_("形式审查"),
    Phase.MATERIAL_REVIEW: N_("材料文审/专家会审"),
    Phase.PRESENTATION: N_("发表赛"),
    Phase.GRADING: N_("等级认定/推优"),
    Phase.PUBLIC_NOTICE: N_("公示"),
    Phase.PUBLICATION: N_("成果发布"),
    Phase.EXCHANGE_MEETING: N_("交流会"),
    Phase.PROMOTION: N_("宣传推广"),
    Phase.NATIONAL_FORWARDING: N_("推荐全国"),
}
ROLES = {
    Role.SECRETARIAT: N_("秘书处"),
    Role.APPLICANT_UNIT: N_("申报单位"),
    Role.RECOMMENDING_UNIT: N_("推荐单位"),
    Role.REVIEWER: N_("评委"),
    Role.AUDITOR: N_("审计"),
    Role.NATIONAL_STAFF: N_("全国质协工作人员"),
    Role.OPERATOR: N_("平台运维"),
    Role.SYSTEM: N_("系统"),
}
PROGRAMMES = {
    Programme.QC_GROUP: N_("质量管理小组活动"),
    Programme.TEAM: N_("质量信得过班组建设活动"),
}
PROBLEMS_BY_RULE = {
    "invalid_credentials": N_("登录名或密码不正确"),
    "throttled": N_("登录尝试过于频繁，请 15 分钟后再试"),
    "locked": N_("账号因多次登录失败已锁定，请 15 分钟后再试或联系秘书处"),
    "disabled": N_("账号已停用"),
    "pending": N_("账号尚未确认"),
    "required": N_("不能为空"),
    "csrf": N_("页面已过期，请重新提交"),
    "not_found": N_("未找到"),
    "forbidden": N_("您的角色无权执行此操作"),
    "unauthenticated": N_("未登录：请先登录"),
    "malformed": N_("提交的内容格式不正确"),
    "not_in_list": N_("不在本协会的目录中"),
    "too_long": N_("内容过长"),
    "window_closed": N_("不在办理时间窗口内"),
    "range": N_("超出允许的范围"),
    "stale_version": N_("记录已被他人修改，请刷新后重试"),
    "claim_refused": N_("本账号代表该单位的申请未通过核验"),
    # desk: the least number of results, the reminder
    "below_minimum": N_("申报单位的成果数量少于本活动要求，不能通过形式审查"),
    "none_late": N_("没有需要提醒的单位"),
    # rounds: review rounds, score sheets, paper sheets.
    "not_a_number": N_("应为数字"),
    "total_mismatch": N_("合计与各项之和不符"),
    "not_xlsx": N_("文件不是有效的 .xlsx 工作簿"),
    "no_header": N_("未找到表头行（以“序号”开头）"),
    "not_in_round": N_("该成果不在本轮评审中"),
    "not_assigned": N_("该成果未分配给该评委"),
    "already_filed": N_("已提交评分表；更正须注明被更正的评分表"),
    "already_assigned": N_("已分配该评委"),
    "not_enough_reviewers": N_("可分配的评委不足"),
    "not_aggregated": N_("请先汇总最新的评分"),
    "missing": N_("评分表尚未提交"),
    "unassigned": N_("尚未分配评委"),
    # contest: a release before every judge has filed (the message carries the count)
    "sheets_missing": N_("尚有评委未提交评分表，不能公布得分"),
}
"""English for the refusals the public and sign-in pages show, by rule."""


def phase(speaker: Speaker, value: Phase | str) -> str:
    return speaker.gettext(PHASES[Phase(value)])


def role(speaker: Speaker, value: Role) -> str:
    return speaker.gettext(ROLES[value])


def programme(speaker: Speaker, value: Programme | str) -> str:
    return speaker.gettext(PROGRAMMES[Programme(value)])


QUOTED = re.compile(r"“([^”]*)”")


def units_named(text: str, units: Mapping[str, str]) -> str:
    """A reason the domain wrote with a recommending unit's code in quotes (曾任推荐单位“jinan”
    评审组成员), with the unit's name instead: the record keeps the code, the page shows the
    name. Anything quoted that is not a unit's code stays as it is."""
    return QUOTED.sub(lambda m: f"“{units.get(m[1], m[1])}”", text)


def problem(speaker: Speaker, found: Problem) -> str:
    """The refusal in the reader's language: the domain's own Chinese, or the catalog's English
    of its rule (the Chinese when the rule has none yet)."""
    if not speaker.english:
        return found.message
    said = speaker.gettext(found.message)  # a message the catalog knows as it is
    if said != found.message:
        return said
    known = PROBLEMS_BY_RULE.get(found.rule)
    return speaker.gettext(known) if known else found.message


# formal-review: the domain's refusals on the review pages (formal review, the plan, the pool),
# so that the catalog gives each its English (`problem` finds them by their Chinese).
REVIEW_PROBLEMS = (
    N_("请说明不通过的理由"),
    N_("请列出需要修改的内容"),
    N_("请逐项填写审查结果"),
    N_("请勾选要通过形式审查的成果"),
    N_("形式审查清单不能为空，且每项须有内容"),
    N_("须至少安排一轮材料评审"),
    N_("评审轮次代码重复"),
    N_("轮次须有代码和名称"),
    N_("须为 material 或 presentation"),
    N_("须为 mean、trimmed_mean 或 zscore"),
    N_("应为 1 至 15 人"),
    N_("发表赛只能安排一轮"),
    N_("发表赛权重应在 0 至 1 之间"),
    N_("须为 score（按分数段）或 rank（按名次）"),
    N_("请设定等级"),
    N_("不是本协会的等级"),
    N_("按分数段认定须给出分数线"),
    N_("按名次认定须给出名额"),
    N_("名额须为正整数"),
    N_("等级或名额不正确"),
    N_("材料评审已开始，评审方案不能再修改"),
    N_("应为整数"),
    N_("应为数字"),
    N_("评分项重复"),
    N_("手机号应为 11 位数字，以 1 开头"),
    N_("请填写回避对象"),
    N_("请说明回避理由"),
    N_("已申报该回避"),
    N_("该证书编号已在专家库中"),
    N_("与前面的行证书编号重复"),
    N_("有效期应为日期，如 2026-12-31"),
    N_("请说明原因"),
    N_("该专家已退出专家库"),
    N_("证书编号不能修改"),
    N_("请上传按模板填写的 .xlsx 文件"),
    N_("没有找到“证书编号”等表头，请使用下载的模板"),
    N_("请选择要上传的文件"),
    N_("文件中没有专家"),
    N_("工作单位统一社会信用代码"),
)

# contest: the live contest's refusals (`problem` finds them by their Chinese).
CONTEST_PROBLEMS = (
    N_("发表时间应在 1 至 60 分钟之间"),
    N_("应为整数分钟"),
    N_("该成果的得分已公布"),
    N_("只有发表赛有上台顺序"),
    N_("已是最后一位"),
    N_("尚无人上台"),
    N_("请选择评委"),
    N_("应为数字"),
    N_("该成果未分配给您评审"),
    N_("已提交评分表；更正须注明被更正的评分表"),
)
