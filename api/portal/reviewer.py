"""The reviewer's pages (评委, phone first): my queue per round with progress; the sheet by the
rubric of the result's topic type, each criterion's maximum, the total as typed, the result
beside it (its report a tap away), save and next; my own filed sheets; a correction with a
reason; a declared conflict. A reviewer reads only their own: every record goes through
`Records` (the results assigned to them, their own sheets), never another reviewer's."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Annotated, Any
from uuid import UUID

from litestar import Controller, Request, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, QueryParameter
from litestar.response import Redirect, Stream, Template

from aggregates.actor import Actor, Role
from aggregates.expert import CONFLICT_KINDS
from aggregates.problems import Problem
from aggregates.review_round import ReviewRound
from aggregates.submission import AttachmentKind
from aggregates.submission_forms import QcResultForm
from api.applicants.submissions import attachment_document
from api.platform.access import access, only
from api.platform.records import Records
from api.portal import labels
from api.portal.forms import (
    FormPage,
    PortalForm,
    Posted,
    PostedFields,
    refuse,
    typed_fields,
)
from api.portal.rendering import Page
from api.review.routes import fresh
from projections.campaign_list import list_campaigns
from projections.review_board import AssignmentRow, reviewer_queue
from projections.service import TenantViews
from tenants.files import FileStore
from tenants.runtime import TenantRuntime

REVIEWER = only(Role.REVIEWER)
N_ = labels.N_
KIND_NAMES = {
    "applicant": N_("申报单位（统一社会信用代码）"),
    "recommending_unit": N_("推荐单位"),
    "submission": N_("申报成果"),
}
DONE = ("saved", "corrected", "declared", "finished")
FILE_KINDS = {
    "application_form": N_("盖章申报表"),
    "report": N_("成果报告"),
    "slides": N_("发表材料"),
    "evidence": N_("证明材料"),
}


class ConflictForm(PortalForm):
    certificate_number: str = ""
    kind: str = ""
    value: str = ""
    reason: str = ""


def my_queue(views: TenantViews, records: Records) -> list[dict[str, Any]]:
    """My assignments, per campaign and round, with progress (filed of assigned)."""
    fresh(views)
    db = views.db("review_board")
    mine = sorted(records.reviewer_numbers())
    rounds: dict[str, dict[str, Any]] = {}
    for campaign in list_campaigns(views.db("campaign_list")):
        for number in mine:
            for row in reviewer_queue(db, UUID(campaign.campaign_id), number):
                group = rounds.setdefault(
                    row.round_id,
                    {
                        "campaign": campaign.title,
                        "name": row.round_name,
                        "closed": row.closed,
                        "rows": [],
                    },
                )
                group["rows"].append(row)
    for group in rounds.values():
        group["filed"] = sum(1 for r in group["rows"] if r.sheet_id)
    return list(rounds.values())


def parse_criteria(rubric: dict[str, int], values: dict[str, str]) -> dict[str, Decimal]:
    """The typed scores, c0…cn in the rubric's order; a blank one is left for the domain to
    name (required), a non-number refused here beside its field."""
    criteria: dict[str, Decimal] = {}
    found = []
    for i, name in enumerate(rubric):
        typed = values.get(f"c{i}", "").strip()
        if not typed:
            continue
        try:
            value = Decimal(typed)
        except InvalidOperation:
            value = Decimal("NaN")
        if not value.is_finite():
            found.append(Problem(f"criteria.{name}", "not_a_number", "应为数字"))
            continue
        criteria[name] = value
    refuse(found)
    return criteria


def sheet_href(tenant: str, row: AssignmentRow) -> str:
    return f"/{tenant}/reviewer/{row.campaign_id}/{row.round_code}/{row.submission_id}"


class ReviewerPages(Controller):
    path = "/{tenant:str}/reviewer"
    include_in_schema = False

    @get("/", operation_id="portalReviewerQueue", sync_to_thread=True, opt=access(REVIEWER))
    def queue(
        self,
        request: Request[Any, Any, Any],
        records: NamedDependency[Records],
        views: NamedDependency[TenantViews],
        done: Annotated[str | None, QueryParameter(max_length=20)] = None,
    ) -> Template:
        """My queue per round with progress; a conflict declared."""
        return self._queue_page(views, records).show(
            request, views.runtime.tenant, done=done if done in DONE else ""
        )

    def _queue_page(self, views: TenantViews, records: Records, **form: Any) -> FormPage:
        """My queue, where a conflict is declared (`form`: as `FormPage`'s)."""
        return FormPage(
            "reviewer/queue.html",
            lambda page: {**self._queue_context(views, records), "done": ""},
            **form,
        )

    def _queue_context(self, views: TenantViews, records: Records) -> dict[str, Any]:
        tenant = views.runtime.tenant.code
        groups = my_queue(views, records)
        for group in groups:
            group["items"] = [{"row": r, "href": sheet_href(tenant, r)} for r in group["rows"]]
        return {
            "groups": groups,
            "numbers": sorted(records.reviewer_numbers()),
            "kinds": [(k, v) for k, v in KIND_NAMES.items()],
        }

    @get("/sheets", operation_id="portalReviewerSheets", sync_to_thread=True, opt=access(REVIEWER))
    def sheets(
        self,
        request: Request[Any, Any, Any],
        records: NamedDependency[Records],
        views: NamedDependency[TenantViews],
    ) -> Template:
        """My own filed sheets (the latest of each, with how often I corrected it)."""
        page = Page(request, views.runtime.tenant)
        tenant = views.runtime.tenant.code
        filed = [
            {"row": r, "href": sheet_href(tenant, r), "round": g["name"], "campaign": g["campaign"]}
            for g in my_queue(views, records)
            for r in g["rows"]
            if r.sheet_id
        ]
        return page.render("reviewer/sheets.html", filed=filed)

    @post(
        "/conflicts",
        operation_id="portalDeclareConflict",
        sync_to_thread=True,
        opt=access(REVIEWER),
    )
    def declare(
        self,
        request: Request[Any, Any, Any],
        data: Posted[ConflictForm],
        records: NamedDependency[Records],
        views: NamedDependency[TenantViews],
        actor: NamedDependency[Actor],
    ) -> Redirect:
        """回避申报: on my own expert record only (a number I do not hold answers 404)."""
        values = {"kind": data.kind, "value": data.value, "reason": data.reason}

        def declare() -> None:
            number = data.certificate_number or min(records.reviewer_numbers(), default="")
            records.expert(number, Role.REVIEWER)
            found = [Problem(k, "required", "不能为空") for k, v in values.items() if not v.strip()]
            if data.kind and data.kind not in CONFLICT_KINDS:
                found.append(Problem("kind", "not_in_list", "请选择回避的类型"))
            refuse(found)
            views.runtime.ledger.declare_conflict(
                number, data.kind, data.value.strip(), data.reason.strip(), actor
            )

        form = self._queue_page(views, records, fields=tuple(values), values=values)
        done = f"/{views.runtime.tenant.code}/reviewer/?done=declared"
        return form.run(request, views.runtime.tenant, declare, done)

    @get(
        "/{campaign_id:uuid}/{round_code:str}/{submission_id:uuid}",
        operation_id="portalScoreSheet",
        sync_to_thread=True,
        opt=access(REVIEWER),
    )
    def sheet(
        self,
        request: Request[Any, Any, Any],
        records: NamedDependency[Records],
        campaign_id: FromPath[UUID],
        round_code: FromPath[str],
        submission_id: FromPath[UUID],
        views: NamedDependency[TenantViews],
        done: Annotated[str | None, QueryParameter(max_length=20)] = None,
    ) -> Template:
        """My sheet of one result by its rubric, the result a tap away."""
        context = sheet_context(views, records, campaign_id, round_code, submission_id)
        return FormPage("reviewer/sheet.html", lambda page: context).show(
            request, views.runtime.tenant, done=done if done in DONE else ""
        )

    @post(
        "/{campaign_id:uuid}/{round_code:str}/{submission_id:uuid}",
        operation_id="portalFileScoreSheet",
        sync_to_thread=True,
        opt=access(REVIEWER),
    )
    def file(
        self,
        request: Request[Any, Any, Any],
        data: PostedFields,
        records: NamedDependency[Records],
        campaign_id: FromPath[UUID],
        round_code: FromPath[str],
        submission_id: FromPath[UUID],
        views: NamedDependency[TenantViews],
        actor: NamedDependency[Actor],
    ) -> Redirect:
        """My sheet filed (or my latest corrected, with the reason); then this result again, or
        the next in my queue of the round that still needs my sheet."""
        context = sheet_context(views, records, campaign_id, round_code, submission_id)
        rubric: dict[str, int] = context["rubric"]
        mine = context["mine"]
        values = typed_fields(data)

        def file() -> None:
            views.runtime.ledger.file_sheet(
                campaign_id,
                round_code,
                submission_id=submission_id,
                reviewer=context["number"],
                criteria=parse_criteria(rubric, values),
                comment=values.get("comment", ""),
                corrects=mine["sheet_id"] if mine else None,
                reason=values.get("reason", "") if mine else "",
                actor=actor,
            )

        tenant = views.runtime.tenant.code
        done = "corrected" if mine else "saved"
        here = f"/{tenant}/reviewer/{campaign_id}/{round_code}/{submission_id}?done={done}"
        if values.get("action") == "next":
            here = (
                f"{context['next_href']}?done={done}"
                if context["next_href"]
                else f"/{tenant}/reviewer/?done=finished"
            )
        form = FormPage(
            "reviewer/sheet.html",
            lambda page: {**context, "done": ""},
            fields=(*(f"criteria.{name}" for name in rubric), "comment", "reason"),
            values=values,
        )
        return form.run(request, views.runtime.tenant, file, here)

    @get(
        "/{campaign_id:uuid}/{round_code:str}/{submission_id:uuid}/files/{sha256:str}",
        operation_id="portalReviewerFile",
        sync_to_thread=True,
        opt=access(REVIEWER),
    )
    def attachment(
        self,
        records: NamedDependency[Records],
        campaign_id: FromPath[UUID],
        round_code: FromPath[str],
        submission_id: FromPath[UUID],
        sha256: FromPath[str],
        runtime: NamedDependency[TenantRuntime],
        files: NamedDependency[FileStore],
    ) -> Stream:
        """A file of a result assigned to me, opened in the browser or in the sheet page's frame
        beside the sheet (its report): framed by the portal's own pages only, never cached."""
        review_round = runtime.ledger.get_round(campaign_id, round_code)
        records.assigned_number(review_round, submission_id)
        submission = runtime.ledger.get_submission(submission_id)
        return attachment_document(submission, files, sha256, inline=True)


def sheet_context(
    views: TenantViews,
    records: Records,
    campaign_id: UUID,
    round_code: str,
    submission_id: UUID,
) -> dict[str, Any]:
    """The sheet page of a result assigned to me: the rubric, my own sheets of it (never
    another reviewer's), the result beside, and where I am in my queue of the round."""
    ledger = views.runtime.ledger
    review_round = ledger.get_round(campaign_id, round_code)
    number = records.assigned_number(review_round, submission_id)
    entrant = review_round.entrant(submission_id)
    submission = ledger.get_submission(submission_id)
    tenant = views.runtime.tenant.code
    key = str(submission_id)
    history = [
        {**s, "sheet_id": sheet_id}
        for sheet_id, s in review_round.sheets.items()
        if str(s["submission_id"]) == key and s["reviewer"] == number
    ]
    current_id = review_round.current.get(f"{key}/{number}")
    mine = next((s for s in history if s["sheet_id"] == current_id), None)
    queue = _my_round_queue(review_round, number)
    position = queue.index(key)
    later = queue[position + 1 :] + queue[:position]
    next_key = next((k for k in later if f"{k}/{number}" not in review_round.current), None)
    base = f"/{tenant}/reviewer/{campaign_id}/{round_code}"
    files = [
        {
            "name": a.name,
            "kind": FILE_KINDS.get(a.kind.value, a.kind.value),
            "url": f"{base}/{key}/files/{a.sha256}",
            "report": a.kind is AttachmentKind.REPORT,
        }
        for a in submission.attachments
        if a.content_type == "application/pdf"
    ]
    form = submission.form
    if isinstance(form, QcResultForm):
        summary = form.intro
    else:
        summary = "\n\n".join(s for s in getattr(form, "sections", ()) if s)
    return {
        "round": review_round,
        "campaign": ledger.get_campaign(campaign_id),
        "number": number,
        "entrant": entrant,
        "rubric": review_round.rubrics[entrant["rubric"]],
        "rubric_top": sum(review_round.rubrics[entrant["rubric"]].values()),
        "mine": mine,
        "history": history,
        "position": position + 1,
        "count": len(queue),
        "filed_count": sum(1 for k in queue if f"{k}/{number}" in review_round.current),
        "next_href": f"{base}/{next_key}" if next_key else "",
        "base": base,
        "summary": summary,
        "topic_type": submission.topic_type,
        "files": files,
        # Shown beside the sheet on a wide screen (a phone opens it from the list instead).
        "report": next((f for f in files if f["report"]), files[0] if files else None),
    }


def _my_round_queue(review_round: ReviewRound, number: str) -> list[str]:
    """The results assigned to me in the round, by serial."""
    return [
        key
        for key, entrant in sorted(review_round.entrants.items(), key=lambda kv: kv[1]["serial"])
        if number in review_round.assignments.get(key, [])
    ]
