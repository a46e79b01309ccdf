"""The recommending unit's channel (推荐通道): what was filed under the unit, each result with its
files opened in the browser, and the unit's recommendation form (推荐表) laid out like the seed's:
rank, score, evaluation, scoring reviewer, roster, not-recommended with a reason, declaration,
file; its .xlsx/.csv exports and its import from an edited export. Every command is the
ledger's (the API's), every record rule `Records`'."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from litestar import Controller, Request, Response, get, post
from litestar.concurrency import sync_to_thread
from litestar.datastructures import UploadFile
from litestar.di import NamedDependency
from litestar.params import FromPath
from litestar.response import Redirect, Stream, Template

from aggregates.actor import Actor, Role
from aggregates.submission import Submission, SubmissionStatus
from api.applicants.submissions import attachment_document
from api.platform.access import access, not_found, only
from api.platform.exports import XLSX, download, recommendation_rows, to_csv, to_xlsx
from api.platform.records import Records
from api.platform.security import CSRF_FIELD
from api.portal import labels
from api.portal.applicant import caught_up
from api.portal.forms import FormPage
from api.portal.recommendation_form import (
    COMMANDS,
    FORM_FIELDS,
    FORM_STATUSES,
    LIST_LIMIT,
    ROW_COMMANDS,
    TOPIC_TYPES,
    FormPost,
    form_context,
    topic_label,
    unit_base,
    unit_rows,
)
from api.portal.rendering import Page
from api.recommending.form_import import IMPORT_MAX_BYTES
from api.recommending.routes import recommendation_sheet
from projections.campaign_list import list_campaigns
from projections.service import TenantViews
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
DECISIONS = {
    "recommended": N_("已推荐"),
    "not_recommended": N_("未推荐"),
    "invalid": N_("推荐无效"),
    "pending": N_("尚未决定"),
}


def _form_status(page: Page, runtime: TenantRuntime, campaign_id: UUID, unit: str) -> str:
    found = runtime.ledger.find_recommendation(campaign_id, unit)
    status = found.status if found else "draft"
    return page.speaker.gettext(FORM_STATUSES[status]) if found else ""


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
    values = {k: v for k, v in posted.items() if isinstance(v, str) and k != CSRF_FIELD}
    order = [str(v) for v in posted.getall("order", [])]
    post = FormPost(runtime, views, campaign_id, unit, values, order, content, actor)
    key = values.get("submission_id", "") if command in ROW_COMMANDS else command

    def run() -> Redirect:
        name = records.unit_name(runtime, unit, own=True)
        form = FormPage(
            "recommending/form.html",
            lambda page: {
                **form_context(page, runtime, views, campaign_id, unit, name),
                "posted": key,
                "import_refused": command == "import",
                "saved": "",
            },
            fields=FORM_FIELDS,
            values=values,
        )

        def saved() -> str:
            anchor = COMMANDS[command](post)
            caught_up(runtime, views)
            return f"#{anchor}" if anchor else ""

        action = f"{unit_base(runtime.tenant.code, unit, campaign_id)}/form"
        return form.run(
            request, runtime.tenant, saved, lambda anchor: f"{action}?saved={command}{anchor}"
        )

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
                            "results": f"{unit_base(code, unit, UUID(c.campaign_id))}/results",
                            "form": f"{unit_base(code, unit, UUID(c.campaign_id))}/form",
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
        every = unit_rows(views, campaign_id, unit)
        rows = unit_rows(views, campaign_id, unit, **chosen) if any(chosen.values()) else every
        found = runtime.ledger.find_recommendation(campaign_id, unit)
        ranks = (
            {str(e["submission_id"]): i for i, e in enumerate(found.entries, 1)} if found else {}
        )
        declined = found.not_recommended if found else {}
        speaker = page.speaker
        base = unit_base(runtime.tenant.code, unit, campaign_id)
        return page.render(
            "recommending/results.html",
            campaign=campaign,
            unit_name=name,
            rows=[
                {
                    "row": r,
                    "status": speaker.gettext(STATUSES.get(r.status, r.status)),
                    "topic": topic_label(page, r.topic_type),
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
                for r in unit_rows(views, campaign_id, unit)
                if r.submission_id == str(submission_id)
            ),
            None,
        )
        base = unit_base(runtime.tenant.code, unit, campaign_id)
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
            topic=topic_label(page, row.topic_type if row else None),
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
