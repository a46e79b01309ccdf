"""The domain's words as the portal shows them, in both languages.

The domain names phases, roles and programmes in Chinese and writes its refusals in Chinese; the
portal shows those in Chinese as they are and, in English, the catalog's translation of the
Chinese. Refusals whose message carries values (a date, a name) are translated by their rule.
`N_` only marks a message for extraction (`make messages`); the test checks that these lists
follow the domain's.
"""

from __future__ import annotations

from aggregates.actor import Role
from aggregates.campaign import Phase, Programme
from aggregates.problems import Problem
from api.portal.i18n import Speaker


def N_(message: str) -> str:
    return message


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
}
"""English for the refusals the public and sign-in pages show, by rule."""


def phase(speaker: Speaker, value: Phase | str) -> str:
    return speaker.gettext(PHASES[Phase(value)])


def role(speaker: Speaker, value: Role) -> str:
    return speaker.gettext(ROLES[value])


def programme(speaker: Speaker, value: Programme | str) -> str:
    return speaker.gettext(PROGRAMMES[Programme(value)])


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
