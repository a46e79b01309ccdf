"""The recommending unit's 推荐表 on its page: what the page shows (`form_context`: the form as
the API reads it, the results not listed, the quotas as they fill, whether it may change now) and
the form's commands as posted (each one ledger command, as the API's; the import the API's
`import_form`)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any
from uuid import UUID

from aggregates.actor import Actor
from aggregates.campaign import Campaign, Phase
from aggregates.problems import Problem
from aggregates.recommendation import Reviewer
from aggregates.submission import SubmissionStatus
from aggregates.submission_forms import TopicType
from api.platform.access import not_found
from api.platform.errors import RequestProblem
from api.platform.exports import DECLARATION
from api.portal import labels
from api.portal.clock import written
from api.portal.forms import version_of
from api.portal.rendering import Page
from api.recommending.form_import import IMPORT_MAX_BYTES, import_form
from api.recommending.routes import view
from projections.service import TenantViews
from projections.submission_list import SubmissionRow, list_submissions
from tenants.runtime import TenantRuntime

N_ = labels.N_
TOPIC_TYPES = {
    TopicType.PROBLEM_SOLVING.value: N_("问题解决型"),
    TopicType.INNOVATIVE.value: N_("创新型"),
}
FORM_STATUSES = {
    "draft": N_("填写中"),
    "filed": N_("已报送"),
    "returned": N_("秘书处已退回"),
    "invalid": N_("推荐无效"),
}
REFUSALS = (
    N_("推荐表已报送，需秘书处退回后才能修改"),
    N_("该成果未向本推荐单位申报"),
    N_("该成果已在推荐目录中"),
    N_("请填写成果评价（优势/不足之处）"),
    N_("打分评委须先列入本推荐表的评委名单"),
    N_("该成果不在推荐目录中"),
    N_("排序须恰好包含推荐目录中的全部成果"),
    N_("手机号应为 11 位数字，以 1 开头"),
    N_("评委证书编号在名单中重复"),
    N_("该评委已为推荐成果打分，不能移出名单"),
    N_("名单中没有该评委"),
    N_("请说明不推荐的理由"),
    N_("该成果在推荐目录中，请先移出"),
    N_("请先阅读并接受推荐声明"),
    N_("推荐目录为空"),
    N_("请填写评委名单"),
    N_("推荐表正被同时修改，请稍后重试"),
    N_("打分应为数字"),
    N_("请勾选接受推荐声明"),
    N_("请选择要上传的 .xlsx 文件"),
    N_("文件不是有效的 .xlsx 工作簿"),
    N_("文件不是本活动从平台导出的推荐表"),
    N_("推荐目录缺少“编号”列，请使用平台导出的推荐表"),
    N_("已是第一位"),
    N_("已是最后一位"),
)
"""The domain's refusals on these pages whose message is fixed (the catalog translates them)."""
ENTRY_FIELDS = ("submission_id", "score", "evaluation", "reviewer")
REVIEWER_FIELDS = tuple(
    f"reviewer.{n}"
    for n in ("name", "work_unit", "certificate_kind", "certificate_number", "mobile")
)
LIST_LIMIT = 500
FORM_FIELDS = (
    *ENTRY_FIELDS,
    *REVIEWER_FIELDS,
    "reason",
    "filled_by",
    "phone",
    "accept",
    "declaration",
    "entries",
    "reviewers",
    "file",
    "order",
    "certificate_number",
)
"""The fields the form shows a problem beside (the others above the form)."""
ROW_COMMANDS = ("add", "revise", "decline")
"""Commands posted from one result's row: their refusals are shown in that row."""


def _score(text: str) -> Decimal:
    try:
        score = Decimal(text)
    except InvalidOperation:
        score = Decimal("NaN")
    if not score.is_finite():
        raise RequestProblem(422, Problem("score", "number", "打分应为数字"))
    return score


def unit_base(code: str, unit: str, campaign_id: UUID) -> str:
    return f"/{code}/recommending/{unit}/campaigns/{campaign_id}"


def unit_rows(
    views: TenantViews, campaign_id: UUID, unit: str, **filters: str | None
) -> list[SubmissionRow]:
    return list_submissions(
        views.db("submission_list"),
        campaign_id,
        filters={"recommending_unit": unit, **filters},
        include_drafts=False,
        limit=LIST_LIMIT,
    )


def topic_label(page: Page, value: str | None) -> str:
    return page.speaker.gettext(TOPIC_TYPES[value]) if value in TOPIC_TYPES else ""


def _phase_open(campaign: Campaign, page: Page) -> tuple[bool, str]:
    window = campaign.timeline.get(Phase.RECOMMENDATION)
    if campaign.archived or window is None:
        return False, page.speaker.gettext("本活动当前不接受推荐")
    if window.is_open(page.now):
        shown = written(window.closes_at, page.zone, page.speaker)
        return True, page.speaker.gettext("成果推荐截止：%(at)s") % {"at": shown}
    opened = window.opens_at is None or window.opens_at <= page.now
    shown = written(window.closes_at, page.zone, page.speaker)
    return False, (
        page.speaker.gettext("成果推荐已截止（截止时间：%(at)s），推荐表只读") % {"at": shown}
        if opened
        else page.speaker.gettext("成果推荐尚未开始，推荐表只读")
    )


def form_context(
    page: Page, runtime: TenantRuntime, views: TenantViews, campaign_id: UUID, unit: str, name: str
) -> dict[str, Any]:
    """Everything the 推荐表 page shows: the form as the API reads it, the unit's results not
    listed, the quotas as they fill, and whether it may change now."""
    speaker = page.speaker
    campaign = runtime.ledger.get_campaign(campaign_id)
    body = view(runtime, views, campaign_id, unit, name)
    found = runtime.ledger.find_recommendation(campaign_id, unit)
    rows = unit_rows(views, campaign_id, unit)
    by_id = {r.submission_id: r for r in rows}
    listed = {e.submission_id for e in body.entries}
    rules = campaign.rules
    open_now, window_text = _phase_open(campaign, page)
    editable = open_now and body.status in ("draft", "returned")
    names = {r["certificate_number"]: r["name"] for r in body.reviewers}
    entries = [
        {
            "e": e,
            "topic": e.topic_type or "",
            "reviewer_name": names.get(e.reviewer, e.reviewer),
            "first": i == 0,
            "last": i == len(body.entries) - 1,
        }
        for i, e in enumerate(body.entries)
    ]
    candidates = [
        {
            "row": r,
            "topic": topic_label(page, r.topic_type),
            "declined": body.not_recommended.get(r.submission_id, ""),
        }
        for r in rows
        if r.submission_id not in listed and r.status == SubmissionStatus.SUBMITTED.value
    ]
    quota = body.quota
    quotas = [
        speaker.gettext("本单位已推荐 %(n)s/%(quota)s") % {"n": len(body.entries), "quota": quota}
        if quota is not None
        else speaker.gettext("本单位已推荐 %(n)s 项（不限名额）") % {"n": len(body.entries)}
    ]
    per_applicant = rules.recommendations_per_applicant_max
    if per_applicant is not None and found is not None:
        counts: dict[str, int] = {}
        for entry in found.entries:
            counts[entry["credit_code"]] = counts.get(entry["credit_code"], 0) + 1
        enterprises = {r.credit_code: r.unit_name for r in rows}
        for code, n in counts.items():
            quotas.append(
                speaker.gettext("%(enterprise)s已推荐 %(n)s/%(max)s")
                % {"enterprise": enterprises.get(code, code), "n": n, "max": per_applicant}
            )
    filer = runtime.ledger.recommendation_filer(found) if found else None
    filed_by = _account_name(runtime, filer) if filer else ""
    code = runtime.tenant.code
    base = unit_base(code, unit, campaign_id)
    return {
        "campaign": campaign,
        "team": campaign.programme.value == "team",
        "unit": unit,
        "unit_name": name,
        "form": body,
        "status_text": speaker.gettext(FORM_STATUSES.get(body.status, body.status)),
        "editable": editable,
        "window_text": window_text,
        "entries": entries,
        "candidates": candidates,
        "by_id": by_id,
        "quotas": quotas,
        "full": quota is not None and len(body.entries) >= quota,
        "score_max": rules.score_max,
        "evaluation_max": rules.evaluation_max_chars,
        "declaration_text": DECLARATION,
        "filed_at": written(body.filed_at, page.zone, page.speaker) if body.filed_at else "",
        "filed_by": filed_by,
        "base": base,
        "action": f"{base}/form",
        "results": f"{base}/results",
        "index": f"/{code}/recommending/",
        "posted": "",
        "import_refused": False,
    }


def _account_name(runtime: TenantRuntime, actor_id: str) -> str:
    try:
        return runtime.ledger.get_account(UUID(actor_id)).name
    except ValueError:  # not an account's id (an operator's or the system's)
        return actor_id


@dataclass(frozen=True)
class FormPost:
    """One of the 推荐表's commands as posted: the unit's form of the campaign, the fields as
    typed, the order dragged (`order`) and the file uploaded (`content`), by whom."""

    runtime: TenantRuntime
    views: TenantViews
    campaign_id: UUID
    unit: str
    values: dict[str, str]
    order: list[str]
    content: bytes
    actor: Actor

    def get(self, name: str) -> str:
        return self.values.get(name, "")

    @property
    def version(self) -> int | None:
        """The version of the form the page was read at (a stale one: 409)."""
        return version_of(self.values.get("version"))


Command = Callable[[FormPost], str]
"""A command of the form: run, it says the anchor of the page to go back to."""


def _add(post: FormPost) -> str:
    return _entry(post, post.runtime.ledger.add_recommendation_entry)


def _revise(post: FormPost) -> str:
    return _entry(post, post.runtime.ledger.revise_recommendation_entry)


def _entry(post: FormPost, command: Callable[..., object]) -> str:
    """An entry listed or revised: its score, evaluation and scoring reviewer."""
    submission_id = _submission_id(post)
    command(
        post.campaign_id,
        post.unit,
        submission_id,
        _score(post.get("score").strip()),
        post.get("evaluation"),
        post.get("reviewer"),
        post.actor,
        post.version,
    )
    return f"entry-{submission_id}"


def _remove(post: FormPost) -> str:
    post.runtime.ledger.remove_recommendation_entry(
        post.campaign_id, post.unit, _submission_id(post), post.actor, post.version
    )
    return "ranking"


def _move(post: FormPost) -> str:
    """Up or down one place (the keyboard's way to rank): the same reorder as a drag."""
    submission_id = _submission_id(post)
    found = post.runtime.ledger.get_recommendation(post.campaign_id, post.unit)
    ids = [e["submission_id"] for e in found.entries]
    if submission_id not in ids:
        raise RequestProblem(422, Problem("submission_id", "not_listed", "该成果不在推荐目录中"))
    at = ids.index(submission_id)
    to = at - 1 if post.get("direction") == "up" else at + 1
    if not 0 <= to < len(ids):
        message = "已是第一位" if to < 0 else "已是最后一位"
        raise RequestProblem(422, Problem("order", "edge", message))
    ids[at], ids[to] = ids[to], ids[at]
    post.runtime.ledger.reorder_recommendation(
        post.campaign_id, post.unit, ids, post.actor, post.version
    )
    return f"entry-{submission_id}"


def _reorder(post: FormPost) -> str:
    try:
        ids = [UUID(i) for i in post.order]
    except ValueError:
        raise RequestProblem(
            422, Problem("order", "same_entries", "排序须恰好包含推荐目录中的全部成果")
        ) from None
    post.runtime.ledger.reorder_recommendation(
        post.campaign_id, post.unit, ids, post.actor, post.version
    )
    return "ranking"


def _add_reviewer(post: FormPost) -> str:
    too_long = [
        Problem(name, "too_long", "不能超过 200 个字")
        for name in REVIEWER_FIELDS
        if len(post.get(name)) > 200
    ]
    if too_long:
        raise RequestProblem(422, *too_long)
    reviewer = Reviewer(
        name=post.get("reviewer.name"),
        work_unit=post.get("reviewer.work_unit"),
        certificate_number=post.get("reviewer.certificate_number").strip(),
        mobile=post.get("reviewer.mobile").strip(),
        certificate_kind=post.get("reviewer.certificate_kind"),
    )
    post.runtime.ledger.add_recommendation_reviewer(
        post.campaign_id, post.unit, reviewer, post.actor, post.version
    )
    return "roster"


def _remove_reviewer(post: FormPost) -> str:
    post.runtime.ledger.remove_recommendation_reviewer(
        post.campaign_id, post.unit, post.get("certificate_number"), post.actor, post.version
    )
    return "roster"


def _decline(post: FormPost) -> str:
    reason = post.get("reason")
    if len(reason) > 500:
        raise RequestProblem(422, Problem("reason", "too_long", "不能超过 500 个字"))
    submission_id = _submission_id(post)
    post.runtime.ledger.decline_submission(
        post.campaign_id, post.unit, submission_id, reason, post.actor, post.version
    )
    return f"candidate-{submission_id}"


def _declare(post: FormPost) -> str:
    if post.get("accept") != "yes":
        raise RequestProblem(422, Problem("accept", "required", "请勾选接受推荐声明"))
    filled_by, phone = post.get("filled_by"), post.get("phone")
    too_long = [
        Problem(k, "too_long", "不能超过 200 个字")
        for k, x in (("filled_by", filled_by), ("phone", phone))
        if len(x) > 200
    ]
    if too_long:
        raise RequestProblem(422, *too_long)
    post.runtime.ledger.declare_recommendation(
        post.campaign_id, post.unit, filled_by, phone, post.actor, post.version
    )
    return "declaration"


def _file(post: FormPost) -> str:
    post.runtime.ledger.file_recommendation(post.campaign_id, post.unit, post.actor, post.version)
    return ""


def _import(post: FormPost) -> str:
    if not post.content:
        raise RequestProblem(422, Problem("file", "required", "请选择要上传的 .xlsx 文件"))
    if len(post.content) > IMPORT_MAX_BYTES:
        raise RequestProblem(422, Problem("file", "too_large", "文件超过 5 MB"))
    import_form(post.views, post.campaign_id, post.unit, post.content, post.actor, post.version)
    return "ranking"


def _submission_id(post: FormPost) -> UUID:
    try:
        return UUID(post.get("submission_id"))
    except ValueError:
        raise not_found("submission_id") from None


COMMANDS: dict[str, Command] = {
    "add": _add,
    "revise": _revise,
    "remove": _remove,
    "move": _move,
    "order": _reorder,
    "reviewers": _add_reviewer,
    "remove-reviewer": _remove_reviewer,
    "decline": _decline,
    "declaration": _declare,
    "file": _file,
    "import": _import,
}
"""The form's commands by the last part of their path: each one ledger command, as the API's."""
