"""The recommending unit's channel (推荐通道): what was filed under the unit, each result with its
files opened in the browser, and the unit's recommendation form (推荐表) laid out like the seed's:
rank, score, evaluation, scoring reviewer, roster, not-recommended with a reason, declaration,
file; its .xlsx/.csv exports and its import from an edited export. Every command is the
ledger's (the API's), every record rule `Records`'."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any
from uuid import UUID

from litestar import Controller, Request, Response, get, post
from litestar.concurrency import sync_to_thread
from litestar.datastructures import UploadFile
from litestar.di import NamedDependency
from litestar.params import FromPath
from litestar.response import Redirect, Stream, Template

from aggregates.actor import Actor, Role
from aggregates.campaign import Campaign, Phase
from aggregates.problems import Problem
from aggregates.recommendation import Reviewer
from aggregates.submission import Submission, SubmissionStatus
from aggregates.submission_forms import TopicType
from api.access import access, not_found, only
from api.errors import RequestProblem
from api.exports import DECLARATION, XLSX, download, recommendation_rows, to_csv, to_xlsx
from api.portal import labels
from api.portal.applicant import caught_up
from api.portal.clock import written
from api.portal.errors import FormState
from api.portal.rendering import Page
from api.recommendation_import import IMPORT_MAX_BYTES, import_form
from api.recommendations import recommendation_sheet, view
from api.records import Records
from api.submissions import attachment_document
from projections.campaign_list import list_campaigns
from projections.service import TenantViews
from projections.submission_list import SubmissionRow, list_submissions
from tenants.files import FileStore
from tenants.runtime import TenantRuntime

CHANNEL = only(Role.RECOMMENDING_UNIT, Role.APPLICANT_UNIT)
"""The unit's pages. An applicant passes the role guard only to be answered what the record rule
answers another unit: a 404 page (`Records.unit_name`), never a hint that the page exists."""
N_ = labels.N_
STATUSES = {
    SubmissionStatus.SUBMITTED.value: N_("已申报"),
    SubmissionStatus.RETURNED.value: N_("退回修改"),
    SubmissionStatus.WITHDRAWN.value: N_("已撤回"),
    SubmissionStatus.REJECTED.value: N_("形式审查未通过"),
}
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
DECISIONS = {
    "recommended": N_("已推荐"),
    "not_recommended": N_("未推荐"),
    "invalid": N_("推荐无效"),
    "pending": N_("尚未决定"),
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


def _version(value: Any) -> int | None:
    text = str(value or "")
    return int(text) if text.isdigit() else None


def _score(text: str) -> Decimal:
    try:
        score = Decimal(text)
    except InvalidOperation:
        score = Decimal("NaN")
    if not score.is_finite():
        raise RequestProblem(422, Problem("score", "number", "打分应为数字"))
    return score


def _base(code: str, unit: str, campaign_id: UUID) -> str:
    return f"/{code}/recommending/{unit}/campaigns/{campaign_id}"


def _unit_rows(
    views: TenantViews, campaign_id: UUID, unit: str, **filters: str | None
) -> list[SubmissionRow]:
    return list_submissions(
        views.db("submission_list"),
        campaign_id,
        filters={"recommending_unit": unit, **filters},
        include_drafts=False,
        limit=LIST_LIMIT,
    )


def _topic(page: Page, value: str | None) -> str:
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
    rows = _unit_rows(views, campaign_id, unit)
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
            "topic": _topic(page, r.topic_type),
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
    base = _base(code, unit, campaign_id)
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


def _form_status(page: Page, runtime: TenantRuntime, campaign_id: UUID, unit: str) -> str:
    found = runtime.ledger.find_recommendation(campaign_id, unit)
    status = found.status if found else "draft"
    return page.speaker.gettext(FORM_STATUSES[status]) if found else ""


def _account_name(runtime: TenantRuntime, actor_id: str) -> str:
    try:
        return runtime.ledger.get_account(UUID(actor_id)).name
    except ValueError:  # not an account's id (an operator's or the system's)
        return actor_id


def _unit_submission(
    records: Records, runtime: TenantRuntime, campaign_id: UUID, unit: str, submission_id: UUID
) -> Submission:
    """A result filed under this unit in this campaign, else 404 (as another unit's)."""
    submission = records.submission(runtime, submission_id)
    if (
        submission.recommending_unit != unit
        or submission.campaign_id != campaign_id
        or submission.status is SubmissionStatus.DRAFT
    ):
        raise not_found("submission_id")
    return submission


def _command_route(command: str) -> Any:
    """The form post of one command: each its own route, with the channel's access rule."""

    @post(
        f"/{{unit:str}}/campaigns/{{campaign_id:uuid}}/form/{command}",
        operation_id=f"portalRecommendation{command.title().replace('-', '')}",
        opt=access(CHANNEL),
    )
    async def handler(
        self: Any,
        request: Request[Any, Any, Any],
        records: NamedDependency[Records],
        unit: FromPath[str],
        campaign_id: FromPath[UUID],
        runtime: NamedDependency[TenantRuntime],
        views: NamedDependency[TenantViews],
        actor: NamedDependency[Actor],
    ) -> Redirect:
        return await _posted(command, request, records, unit, campaign_id, runtime, views, actor)

    return handler


async def _posted(
    command: str,
    request: Request[Any, Any, Any],
    records: Records,
    unit: str,
    campaign_id: UUID,
    runtime: TenantRuntime,
    views: TenantViews,
    actor: Actor,
) -> Redirect:
    """Run one of the form's commands from its post; a refusal shows the form again with each
    problem beside its field (in the row it was posted from) and the input kept."""
    posted = await request.form()
    upload = posted.get("file")
    content = await upload.read(IMPORT_MAX_BYTES + 1) if isinstance(upload, UploadFile) else b""
    values = {k: str(v) for k, v in posted.items() if isinstance(v, str) and k != "csrf_token"}
    order = [str(v) for v in posted.getall("order", [])]

    def run() -> Redirect:
        name = records.unit_name(runtime, unit, own=True)
        page = Page(request, runtime.tenant)
        context = form_context(page, runtime, views, campaign_id, unit, name)
        key = values.get("submission_id", "") if command in ROW_COMMANDS else command
        request.state.form = FormState(
            template="recommending/form.html",
            fields=FORM_FIELDS,
            values=values,
            context={**context, "posted": key, "import_refused": command == "import", "saved": ""},
            page=page,
        )
        saved = COMMANDS[command](runtime, views, campaign_id, unit, values, order, content, actor)
        caught_up(runtime, views)
        anchor = f"#{saved}" if saved else ""
        return Redirect(f"{context['action']}?saved={command}{anchor}", status_code=303)

    return await sync_to_thread(run)


class RecommendingPages(Controller):
    path = "/{tenant:str}/recommending"
    include_in_schema = False

    @get("/", operation_id="portalRecommendingHome", sync_to_thread=True, opt=access(CHANNEL))
    def home(
        self,
        request: Request[Any, Any, Any],
        records: NamedDependency[Records],
        runtime: NamedDependency[TenantRuntime],
        views: NamedDependency[TenantViews],
    ) -> Template:
        """The unit's campaigns, each with its results and its 推荐表."""
        units = sorted(records.units())
        if not units:
            raise not_found("unit")
        page = Page(request, runtime.tenant)
        campaigns = [c for c in list_campaigns(views.db("campaign_list")) if c.status != "archived"]
        code = runtime.tenant.code
        return page.render(
            "recommending/home.html",
            units=[
                {
                    "name": records.unit_name(runtime, unit, own=True),
                    "campaigns": [
                        {
                            "summary": c,
                            "programme": labels.programme(page.speaker, c.programme),
                            "results": f"{_base(code, unit, UUID(c.campaign_id))}/results",
                            "form": f"{_base(code, unit, UUID(c.campaign_id))}/form",
                            "status": _form_status(page, runtime, UUID(c.campaign_id), unit),
                        }
                        for c in campaigns
                    ],
                }
                for unit in units
            ],
        )

    @get(
        "/{unit:str}/campaigns/{campaign_id:uuid}/results",
        operation_id="portalUnitResults",
        sync_to_thread=True,
        opt=access(CHANNEL),
    )
    def results(
        self,
        request: Request[Any, Any, Any],
        records: NamedDependency[Records],
        unit: FromPath[str],
        campaign_id: FromPath[UUID],
        runtime: NamedDependency[TenantRuntime],
        views: NamedDependency[TenantViews],
    ) -> Template:
        """What was filed under the unit, with filters; each result's decision on the form."""
        name = records.unit_name(runtime, unit, own=True)
        campaign = runtime.ledger.get_campaign(campaign_id)
        page = Page(request, runtime.tenant)
        query = request.query_params
        chosen = {
            k: str(query.get(k) or "").strip() or None
            for k in ("status", "credit_code", "key_domain", "industry", "topic_type")
        }
        every = _unit_rows(views, campaign_id, unit)
        rows = _unit_rows(views, campaign_id, unit, **chosen) if any(chosen.values()) else every
        found = runtime.ledger.find_recommendation(campaign_id, unit)
        ranks = (
            {str(e["submission_id"]): i for i, e in enumerate(found.entries, 1)} if found else {}
        )
        declined = found.not_recommended if found else {}
        speaker = page.speaker
        base = _base(runtime.tenant.code, unit, campaign_id)
        return page.render(
            "recommending/results.html",
            campaign=campaign,
            unit_name=name,
            rows=[
                {
                    "row": r,
                    "status": speaker.gettext(STATUSES.get(r.status, r.status)),
                    "topic": _topic(page, r.topic_type),
                    "decision": speaker.gettext("推荐第 %(rank)s 位")
                    % {"rank": ranks[r.submission_id]}
                    if r.submission_id in ranks
                    else speaker.gettext("不推荐：%(reason)s")
                    % {"reason": declined[r.submission_id]}
                    if r.submission_id in declined
                    else speaker.gettext("尚未决定"),
                    "href": f"{base}/results/{r.submission_id}",
                }
                for r in rows
            ],
            total=len(every),
            chosen={k: v or "" for k, v in chosen.items()},
            options={
                "status": [(k, speaker.gettext(v)) for k, v in STATUSES.items()],
                "credit_code": sorted(
                    {(r.credit_code, r.unit_name) for r in every}, key=lambda x: x[1]
                ),
                "key_domain": sorted({r.key_domain for r in every if r.key_domain}),
                "industry": sorted({r.industry for r in every if r.industry}),
                "topic_type": [(k, speaker.gettext(v)) for k, v in TOPIC_TYPES.items()],
            },
            form=f"{base}/form",
            here_path=f"{base}/results",
            limited=len(rows) >= LIST_LIMIT,
        )

    @get(
        "/{unit:str}/campaigns/{campaign_id:uuid}/results/{submission_id:uuid}",
        operation_id="portalUnitResult",
        sync_to_thread=True,
        opt=access(CHANNEL),
    )
    def result(
        self,
        request: Request[Any, Any, Any],
        records: NamedDependency[Records],
        unit: FromPath[str],
        campaign_id: FromPath[UUID],
        submission_id: FromPath[UUID],
        runtime: NamedDependency[TenantRuntime],
        views: NamedDependency[TenantViews],
    ) -> Template:
        """One result filed under the unit: its facts and its files, opened in the browser."""
        name = records.unit_name(runtime, unit, own=True)
        submission = _unit_submission(records, runtime, campaign_id, unit, submission_id)
        page = Page(request, runtime.tenant)
        row = next(
            (
                r
                for r in _unit_rows(views, campaign_id, unit)
                if r.submission_id == str(submission_id)
            ),
            None,
        )
        base = _base(runtime.tenant.code, unit, campaign_id)
        found = runtime.ledger.find_recommendation(campaign_id, unit)
        decision, reason = found.decision_on(submission.id) if found else ("pending", None)
        return page.render(
            "recommending/result.html",
            unit_name=name,
            submission=submission,
            row=row,
            title=row.title if row else "",
            status_text=page.speaker.gettext(
                STATUSES.get(submission.status.value, submission.status.value)
            ),
            topic=_topic(page, row.topic_type if row else None),
            decision=page.speaker.gettext(DECISIONS.get(decision, DECISIONS["pending"])),
            reason=reason or "",
            files=[
                {
                    "name": a.name,
                    "kind": a.kind.value,
                    "size": f"{max(a.size // 1024, 1)} KB",
                    "href": f"{base}/results/{submission_id}/files/{a.sha256}",
                }
                for a in submission.attachments
            ],
            back=f"{base}/results",
            form=f"{base}/form",
        )

    @get(
        "/{unit:str}/campaigns/{campaign_id:uuid}/results/{submission_id:uuid}/files/{sha256:str}",
        operation_id="portalUnitResultFile",
        sync_to_thread=True,
        opt=access(CHANNEL),
    )
    def result_file(
        self,
        records: NamedDependency[Records],
        unit: FromPath[str],
        campaign_id: FromPath[UUID],
        submission_id: FromPath[UUID],
        sha256: FromPath[str],
        runtime: NamedDependency[TenantRuntime],
        files: NamedDependency[FileStore],
    ) -> Stream:
        """A result's file opened in the browser (a PDF in its viewer)."""
        records.unit_name(runtime, unit, own=True)
        submission = _unit_submission(records, runtime, campaign_id, unit, submission_id)
        return attachment_document(submission, files, sha256, inline=True)

    @get(
        "/{unit:str}/campaigns/{campaign_id:uuid}/form",
        operation_id="portalRecommendationForm",
        sync_to_thread=True,
        opt=access(CHANNEL),
    )
    def form(
        self,
        request: Request[Any, Any, Any],
        records: NamedDependency[Records],
        unit: FromPath[str],
        campaign_id: FromPath[UUID],
        runtime: NamedDependency[TenantRuntime],
        views: NamedDependency[TenantViews],
    ) -> Template:
        name = records.unit_name(runtime, unit, own=True)
        page = Page(request, runtime.tenant)
        return page.render(
            "recommending/form.html",
            **form_context(page, runtime, views, campaign_id, unit, name),
            values={},
            problems={},
            general_problems=[],
            saved=str(request.query_params.get("saved") or ""),
        )

    @get(
        "/{unit:str}/campaigns/{campaign_id:uuid}/form.xlsx",
        operation_id="portalRecommendationXlsx",
        sync_to_thread=True,
        opt=access(CHANNEL),
    )
    def form_xlsx(
        self,
        records: NamedDependency[Records],
        unit: FromPath[str],
        campaign_id: FromPath[UUID],
        runtime: NamedDependency[TenantRuntime],
        views: NamedDependency[TenantViews],
    ) -> Response[bytes]:
        records.unit_name(runtime, unit, own=True)
        sheet = recommendation_sheet(runtime, views, records, campaign_id, unit)
        rows = recommendation_rows(sheet)
        return download(to_xlsx("推荐表", rows), XLSX, f"{sheet.unit_name}-推荐表.xlsx")

    @get(
        "/{unit:str}/campaigns/{campaign_id:uuid}/form.csv",
        operation_id="portalRecommendationCsv",
        sync_to_thread=True,
        opt=access(CHANNEL),
    )
    def form_csv(
        self,
        records: NamedDependency[Records],
        unit: FromPath[str],
        campaign_id: FromPath[UUID],
        runtime: NamedDependency[TenantRuntime],
        views: NamedDependency[TenantViews],
    ) -> Response[bytes]:
        records.unit_name(runtime, unit, own=True)
        sheet = recommendation_sheet(runtime, views, records, campaign_id, unit)
        return download(
            to_csv(recommendation_rows(sheet)),
            "text/csv; charset=utf-8",
            f"{sheet.unit_name}-推荐表.csv",
        )

    # Commands: each a plain form post; a refusal shows the form again with each problem beside
    # its field (in the row it was posted from) and the input kept.

    add = _command_route("add")
    revise = _command_route("revise")
    remove = _command_route("remove")
    move = _command_route("move")
    order = _command_route("order")
    reviewers = _command_route("reviewers")
    remove_reviewer = _command_route("remove-reviewer")
    decline = _command_route("decline")
    declaration = _command_route("declaration")
    file = _command_route("file")
    import_ = _command_route("import")


Command = Any


def _add(
    runtime: TenantRuntime,
    views: TenantViews,
    cid: UUID,
    unit: str,
    v: dict[str, str],
    order: list[str],
    content: bytes,
    actor: Actor,
) -> str:
    submission_id = _submission_id(v)
    runtime.ledger.add_recommendation_entry(
        cid,
        unit,
        submission_id,
        _score(v.get("score", "").strip()),
        v.get("evaluation", ""),
        v.get("reviewer", ""),
        actor,
        _version(v.get("version")),
    )
    return f"entry-{submission_id}"


def _revise(
    runtime: TenantRuntime,
    views: TenantViews,
    cid: UUID,
    unit: str,
    v: dict[str, str],
    order: list[str],
    content: bytes,
    actor: Actor,
) -> str:
    submission_id = _submission_id(v)
    runtime.ledger.revise_recommendation_entry(
        cid,
        unit,
        submission_id,
        _score(v.get("score", "").strip()),
        v.get("evaluation", ""),
        v.get("reviewer", ""),
        actor,
        _version(v.get("version")),
    )
    return f"entry-{submission_id}"


def _remove(
    runtime: TenantRuntime,
    views: TenantViews,
    cid: UUID,
    unit: str,
    v: dict[str, str],
    order: list[str],
    content: bytes,
    actor: Actor,
) -> str:
    runtime.ledger.remove_recommendation_entry(
        cid, unit, _submission_id(v), actor, _version(v.get("version"))
    )
    return "ranking"


def _move(
    runtime: TenantRuntime,
    views: TenantViews,
    cid: UUID,
    unit: str,
    v: dict[str, str],
    order: list[str],
    content: bytes,
    actor: Actor,
) -> str:
    """Up or down one place (the keyboard's way to rank): the same reorder as a drag."""
    submission_id = _submission_id(v)
    found = runtime.ledger.get_recommendation(cid, unit)
    ids = [e["submission_id"] for e in found.entries]
    if submission_id not in ids:
        raise RequestProblem(422, Problem("submission_id", "not_listed", "该成果不在推荐目录中"))
    at = ids.index(submission_id)
    to = at - 1 if v.get("direction") == "up" else at + 1
    if not 0 <= to < len(ids):
        message = "已是第一位" if to < 0 else "已是最后一位"
        raise RequestProblem(422, Problem("order", "edge", message))
    ids[at], ids[to] = ids[to], ids[at]
    runtime.ledger.reorder_recommendation(cid, unit, ids, actor, _version(v.get("version")))
    return f"entry-{submission_id}"


def _reorder(
    runtime: TenantRuntime,
    views: TenantViews,
    cid: UUID,
    unit: str,
    v: dict[str, str],
    order: list[str],
    content: bytes,
    actor: Actor,
) -> str:
    try:
        ids = [UUID(i) for i in order]
    except ValueError:
        raise RequestProblem(
            422, Problem("order", "same_entries", "排序须恰好包含推荐目录中的全部成果")
        ) from None
    runtime.ledger.reorder_recommendation(cid, unit, ids, actor, _version(v.get("version")))
    return "ranking"


def _add_reviewer(
    runtime: TenantRuntime,
    views: TenantViews,
    cid: UUID,
    unit: str,
    v: dict[str, str],
    order: list[str],
    content: bytes,
    actor: Actor,
) -> str:
    too_long = [
        Problem(name, "too_long", "不能超过 200 个字")
        for name in REVIEWER_FIELDS
        if len(v.get(name, "")) > 200
    ]
    if too_long:
        raise RequestProblem(422, *too_long)
    reviewer = Reviewer(
        name=v.get("reviewer.name", ""),
        work_unit=v.get("reviewer.work_unit", ""),
        certificate_number=v.get("reviewer.certificate_number", "").strip(),
        mobile=v.get("reviewer.mobile", "").strip(),
        certificate_kind=v.get("reviewer.certificate_kind", ""),
    )
    runtime.ledger.add_recommendation_reviewer(
        cid, unit, reviewer, actor, _version(v.get("version"))
    )
    return "roster"


def _remove_reviewer(
    runtime: TenantRuntime,
    views: TenantViews,
    cid: UUID,
    unit: str,
    v: dict[str, str],
    order: list[str],
    content: bytes,
    actor: Actor,
) -> str:
    runtime.ledger.remove_recommendation_reviewer(
        cid, unit, v.get("certificate_number", ""), actor, _version(v.get("version"))
    )
    return "roster"


def _decline(
    runtime: TenantRuntime,
    views: TenantViews,
    cid: UUID,
    unit: str,
    v: dict[str, str],
    order: list[str],
    content: bytes,
    actor: Actor,
) -> str:
    reason = v.get("reason", "")
    if len(reason) > 500:
        raise RequestProblem(422, Problem("reason", "too_long", "不能超过 500 个字"))
    submission_id = _submission_id(v)
    runtime.ledger.decline_submission(
        cid, unit, submission_id, reason, actor, _version(v.get("version"))
    )
    return f"candidate-{submission_id}"


def _declare(
    runtime: TenantRuntime,
    views: TenantViews,
    cid: UUID,
    unit: str,
    v: dict[str, str],
    order: list[str],
    content: bytes,
    actor: Actor,
) -> str:
    if v.get("accept") != "yes":
        raise RequestProblem(422, Problem("accept", "required", "请勾选接受推荐声明"))
    filled_by, phone = v.get("filled_by", ""), v.get("phone", "")
    too_long = [
        Problem(k, "too_long", "不能超过 200 个字")
        for k, x in (("filled_by", filled_by), ("phone", phone))
        if len(x) > 200
    ]
    if too_long:
        raise RequestProblem(422, *too_long)
    runtime.ledger.declare_recommendation(
        cid, unit, filled_by, phone, actor, _version(v.get("version"))
    )
    return "declaration"


def _file(
    runtime: TenantRuntime,
    views: TenantViews,
    cid: UUID,
    unit: str,
    v: dict[str, str],
    order: list[str],
    content: bytes,
    actor: Actor,
) -> str:
    runtime.ledger.file_recommendation(cid, unit, actor, _version(v.get("version")))
    return ""


def _import(
    runtime: TenantRuntime,
    views: TenantViews,
    cid: UUID,
    unit: str,
    v: dict[str, str],
    order: list[str],
    content: bytes,
    actor: Actor,
) -> str:
    if not content:
        raise RequestProblem(422, Problem("file", "required", "请选择要上传的 .xlsx 文件"))
    if len(content) > IMPORT_MAX_BYTES:
        raise RequestProblem(422, Problem("file", "too_large", "文件超过 5 MB"))
    import_form(views, cid, unit, content, actor, _version(v.get("version")))
    return "ranking"


def _submission_id(v: dict[str, str]) -> UUID:
    try:
        return UUID(v.get("submission_id", ""))
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
