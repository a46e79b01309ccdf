"""Formal review (形式审查) in the browser: the secretariat's queue of recommended results with
its progress, each result opened with its files shown inline beside the campaign's checklist,
passed, returned with the unmet items, or rejected with a reason, then the next in the queue;
and several results passed at once. The same commands as `api/review/routes.py`."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any
from uuid import UUID

from litestar import Controller, Request, get, post
from litestar.concurrency import sync_to_thread
from litestar.di import NamedDependency
from litestar.params import FromPath, QueryParameter
from litestar.response import Redirect, Stream, Template

from aggregates.actor import Actor, Role
from aggregates.campaign import Campaign
from aggregates.problems import Problem
from aggregates.submission import AttachmentKind, Submission
from api.applicants.submissions import attachment_document
from api.platform.access import access, only
from api.platform.errors import RequestProblem
from api.platform.records import Records
from api.portal import labels
from api.portal.forms import FormPage, said
from api.portal.i18n import Speaker
from api.portal.labels import N_
from api.portal.rendering import Page
from api.portal.submission_forms import ATTACHMENTS, TOPIC_TYPES
from api.review.routes import fresh
from projections.campaign_list import list_campaigns
from projections.service import TenantViews
from projections.submission_list import FormalReviewRow, formal_review_queue
from tenants.files import FileStore
from tenants.runtime import TenantRuntime

SECRETARIAT = only(Role.SECRETARIAT)
OUTCOMES = {
    "pending": N_("待审"),
    "passed": N_("已通过"),
    "returned": N_("已退回修改"),
    "rejected": N_("不通过"),
}
DONE = {
    "passed": N_("已通过形式审查。"),
    "returned": N_("已退回修改，申报单位会看到须修改的事项。"),
    "rejected": N_("已判定不通过，申报单位会看到理由。"),
}
REVIEW_PROBLEMS = {
    "checklist_unmet": N_("有审查项未满足，不能通过"),
    "not_reviewable": N_("该成果当前状态不能形式审查"),
    "not_recommended": N_("该成果尚未经推荐单位正式推荐"),
    "forwarded": N_("推荐全国的成果不能退回修改，请通过或不予通过并说明理由"),
    "archived": N_("活动已归档，不能再修改"),
}
"""English for formal review's refusals, by rule (the domain's own Chinese otherwise)."""
REASON_MAX = 2000
BLANK_DECISION: Mapping[str, Any] = {"met": [], "items": "", "reason": ""}
"""A result's decision form before anything is typed."""


def in_words(speaker: Speaker, problems: tuple[Problem, ...]) -> dict[str, Any]:
    if not speaker.english:
        return {}
    return {
        "messages": {
            p.rule: speaker.gettext(REVIEW_PROBLEMS[p.rule])
            for p in problems
            if p.rule in REVIEW_PROBLEMS
        }
    }


def row_view(row: FormalReviewRow, runtime: TenantRuntime, speaker: Speaker) -> dict[str, Any]:
    unit = runtime.tenant.unit(row.recommending_unit)
    topic = next((v for k, v in TOPIC_TYPES.items() if k.value == row.topic_type), None)
    return {
        "id": row.submission_id,
        "serial": row.serial or "",
        "title": row.title,
        "unit_name": row.unit_name,
        "recommending_unit": unit.name_zh if unit else speaker.gettext("直接受理通道"),
        "topic": speaker.gettext(topic) if topic else "",
        "outcome": row.outcome,
        "outcome_text": speaker.gettext(OUTCOMES[row.outcome]),
    }


def next_pending(rows: list[FormalReviewRow], after: UUID) -> FormalReviewRow | None:
    """The next result to review after `after` in the queue's order, wrapping round."""
    pending = [r for r in rows if r.outcome == "pending" and r.submission_id != str(after)]
    later = [r for r in pending if r.position > _position(rows, after)]
    chosen = later or pending
    return chosen[0] if chosen else None


def _position(rows: list[FormalReviewRow], submission_id: UUID) -> int:
    return next((r.position for r in rows if r.submission_id == str(submission_id)), 0)


def progress(rows: list[FormalReviewRow]) -> dict[str, int]:
    done = sum(1 for r in rows if r.outcome != "pending")
    return {"done": done, "total": len(rows), "percent": done * 100 // len(rows) if rows else 0}


class FormalReviewPages(Controller):
    path = "/{tenant:str}/review"
    include_in_schema = False

    @get("/", operation_id="portalReviewHome", sync_to_thread=True, opt=access(SECRETARIAT))
    def home(
        self, request: Request[Any, Any, Any], views: NamedDependency[TenantViews]
    ) -> Template:
        """The campaigns, each with its formal review's progress and its review plan."""
        fresh(views)
        page = Page(request, views.runtime.tenant)
        campaigns = []
        for c in list_campaigns(views.db("campaign_list")):
            rows = formal_review_queue(views.db("submission_list"), UUID(c.campaign_id))
            campaigns.append(
                {
                    "id": c.campaign_id,
                    "title": c.title,
                    "programme": labels.programme(page.speaker, c.programme),
                    "year": c.year,
                    "progress": progress(rows),
                }
            )
        return page.render("review/home.html", campaigns=campaigns)

    def _queue(
        self, page: Page, views: TenantViews, campaign: Campaign, show: str
    ) -> dict[str, Any]:
        rows = formal_review_queue(views.db("submission_list"), campaign.id)
        shown = [r for r in rows if show == "all" or r.outcome == "pending"]
        return {
            "campaign": {"id": str(campaign.id), "title": campaign.title},
            "progress": progress(rows),
            "rows": [row_view(r, views.runtime, page.speaker) for r in shown],
            "show": show,
            "checklist": list(campaign.review_plan.checklist),
        }

    @get(
        "/{campaign_id:uuid}/formal",
        operation_id="portalFormalReviewQueue",
        sync_to_thread=True,
        opt=access(SECRETARIAT),
    )
    def queue(
        self,
        request: Request[Any, Any, Any],
        campaign_id: FromPath[UUID],
        views: NamedDependency[TenantViews],
        show: Annotated[str, QueryParameter(max_length=10)] = "pending",
        done: Annotated[str, QueryParameter(max_length=10)] = "",
        passed: Annotated[int, QueryParameter(ge=0, le=500)] = 0,
    ) -> Template:
        """The formal review's queue (pending, or every result) with its progress."""
        campaign = views.runtime.ledger.get_campaign(campaign_id)
        fresh(views)
        shown = "all" if show == "all" else "pending"
        form = self._queue_page(views, campaign, shown, flag=done)
        return form.show(request, views.runtime.tenant, passed=passed)

    def _queue_page(
        self,
        views: TenantViews,
        campaign: Campaign,
        show: str = "pending",
        flag: str = "",
        selected: tuple[str, ...] = (),
        **form: Any,
    ) -> FormPage:
        """The queue (`show`: pending or all; after the `flag` of what was done), where several
        results are passed at once (`selected`: the ones ticked, kept on a refusal)."""
        return FormPage(
            "review/queue.html",
            lambda page: {
                **self._queue(page, views, campaign, show),
                "done": said(page, DONE, flag),
                "passed": 0,
                "selected": list(selected),
            },
            **form,
        )

    @post(
        "/{campaign_id:uuid}/formal/bulk",
        operation_id="portalFormalReviewBulk",
        opt=access(SECRETARIAT),
    )
    async def bulk(
        self,
        request: Request[Any, Any, Any],
        campaign_id: FromPath[UUID],
        views: NamedDependency[TenantViews],
        actor: NamedDependency[Actor],
    ) -> Template | Redirect:
        """Several results passed at once: all or none, a refusal naming each result."""
        form = await request.form()
        chosen = [v for v in form.getall("submissions", []) if isinstance(v, str)]
        return await sync_to_thread(self._bulk, request, campaign_id, views, actor, chosen)

    def _bulk(
        self,
        request: Request[Any, Any, Any],
        campaign_id: UUID,
        views: TenantViews,
        actor: Actor,
        chosen: list[str],
    ) -> Redirect:
        campaign = views.runtime.ledger.get_campaign(campaign_id)
        ids = _uuids(chosen)

        def named(page: Page, found: tuple[Problem, ...]) -> dict[str, Any]:
            every = self._queue(page, views, campaign, "all")["rows"]
            return _bulk_words(page.speaker, found, ids, {r["id"]: r for r in every})

        def pass_all() -> list[Submission]:
            if not ids:
                raise RequestProblem(
                    422, Problem("submissions", "required", "请勾选要通过形式审查的成果")
                )
            return views.runtime.ledger.review_formally_in_bulk(campaign_id, ids, actor)

        form = self._queue_page(
            views,
            campaign,
            selected=tuple(str(i) for i in ids),
            fields=("submissions", *(f"submissions[{i}]" for i in range(len(ids)))),
            on_refusal=named,
        )
        where = f"/{views.runtime.tenant.code}/review/{campaign_id}/formal"
        return form.run(
            request, views.runtime.tenant, pass_all, lambda passed: f"{where}?passed={len(passed)}"
        )

    @get(
        "/{campaign_id:uuid}/formal/{submission_id:uuid}",
        operation_id="portalFormalReviewResult",
        sync_to_thread=True,
        opt=access(SECRETARIAT),
    )
    def result(
        self,
        request: Request[Any, Any, Any],
        records: NamedDependency[Records],
        campaign_id: FromPath[UUID],
        submission_id: FromPath[UUID],
        views: NamedDependency[TenantViews],
        file: Annotated[str, QueryParameter(max_length=64)] = "",
        done: Annotated[str, QueryParameter(max_length=10)] = "",
    ) -> Template:
        """A result beside its files (a PDF framed) and the campaign's checklist."""
        fresh(views)
        form = self._result_page(records, views, campaign_id, submission_id, file, flag=done)
        return form.show(request, views.runtime.tenant)

    def _result_page(
        self,
        records: Records,
        views: TenantViews,
        campaign_id: UUID,
        submission_id: UUID,
        file: str = "",
        flag: str = "",
        values: Mapping[str, Any] = BLANK_DECISION,
        **form: Any,
    ) -> FormPage:
        """A result beside its files (`file`: the one shown; after the `flag` of what was
        done), where it is passed, returned or rejected against the checklist."""
        return FormPage(
            "review/result.html",
            lambda page: {
                **self._result(page, records, views, campaign_id, submission_id, file),
                "done": said(page, DONE, flag),
            },
            fields=lambda shown: (
                "decision",
                "reason",
                "items",
                *(f"checklist.{i}" for i in shown["checklist"]),
            ),
            values=values,
            **form,
        )

    def _result(
        self,
        page: Page,
        records: Records,
        views: TenantViews,
        campaign_id: UUID,
        submission_id: UUID,
        file: str,
    ) -> dict[str, Any]:
        runtime = views.runtime
        submission = records.submission(runtime, submission_id)
        if submission.campaign_id != campaign_id:
            raise RequestProblem(404, Problem("submission_id", "not_found", "未找到"))
        campaign = runtime.ledger.get_campaign(campaign_id)
        rows = formal_review_queue(views.db("submission_list"), campaign_id)
        row = next((r for r in rows if r.submission_id == str(submission_id)), None)
        following = next_pending(rows, submission_id)
        base = f"/{runtime.tenant.code}/review/{campaign_id}/formal"
        return {
            "campaign": {"id": str(campaign_id), "title": campaign.title},
            "base": base,
            "submission": _submission(page.speaker, runtime, submission, row),
            "files": _files(page.speaker, submission, f"{base}/{submission_id}", file),
            "checklist": list(campaign.review_plan.checklist),
            "minimum": _minimum(runtime, submission),
            "progress": progress(rows),
            "next_url": f"{base}/{following.submission_id}" if following else "",
            "reviewable": row is not None and row.outcome == "pending",
        }

    @post(
        "/{campaign_id:uuid}/formal/{submission_id:uuid}",
        operation_id="portalReviewFormally",
        opt=access(SECRETARIAT),
    )
    async def decide(
        self,
        request: Request[Any, Any, Any],
        records: NamedDependency[Records],
        campaign_id: FromPath[UUID],
        submission_id: FromPath[UUID],
        views: NamedDependency[TenantViews],
        actor: NamedDependency[Actor],
    ) -> Template | Redirect:
        """Passed, returned with the unmet items, or rejected with a reason; then the next in the
        queue."""
        form = await request.form()
        posted = {
            "decision": str(form.get("decision") or ""),
            "met": [v for v in form.getall("met", []) if isinstance(v, str)],
            "items": str(form.get("items") or "").strip(),
            "reason": str(form.get("reason") or "").strip(),
            "version": str(form.get("version") or ""),
        }
        return await sync_to_thread(
            self._decide, request, records, campaign_id, submission_id, views, actor, posted
        )

    def _decide(
        self,
        request: Request[Any, Any, Any],
        records: Records,
        campaign_id: UUID,
        submission_id: UUID,
        views: TenantViews,
        actor: Actor,
        posted: dict[str, Any],
    ) -> Redirect:
        form = self._result_page(
            records,
            views,
            campaign_id,
            submission_id,
            values=posted,
            on_refusal=lambda page, found: in_words(page.speaker, found),
        )
        _, shown = form.enter(request, views.runtime.tenant)
        checklist: list[str] = shown["checklist"]
        if len(posted["reason"]) > REASON_MAX or len(posted["items"]) > REASON_MAX:
            raise RequestProblem(422, Problem("reason", "too_long", "不超过 2000 字"))
        met = {item: item in posted["met"] for item in checklist}
        notes = [line.strip() for line in posted["items"].splitlines() if line.strip()]
        items = [item for item, ok in met.items() if not ok] + notes
        version = int(posted["version"]) if posted["version"].isdigit() else None
        decision = posted["decision"]
        views.runtime.ledger.review_formally(
            submission_id, decision, met, posted["reason"], items, actor, version
        )
        following = shown["next_url"] or shown["base"]
        outcome = {"pass": "passed", "return": "returned", "reject": "rejected"}[decision]
        return Redirect(f"{following}?done={outcome}", status_code=303)

    @get(
        "/{campaign_id:uuid}/formal/{submission_id:uuid}/files/{sha256:str}",
        operation_id="portalFormalReviewFile",
        sync_to_thread=True,
        opt=access(SECRETARIAT),
    )
    def file(
        self,
        records: NamedDependency[Records],
        submission_id: FromPath[UUID],
        sha256: FromPath[str],
        runtime: NamedDependency[TenantRuntime],
        files: NamedDependency[FileStore],
    ) -> Stream:
        """The attachment opened in the page's frame (a PDF in the browser's viewer)."""
        return attachment_document(
            records.submission(runtime, submission_id), files, sha256, inline=True
        )


def _uuids(values: list[str]) -> list[UUID]:
    found = []
    for value in dict.fromkeys(values):
        try:
            found.append(UUID(value))
        except ValueError:
            continue
    return found


def _bulk_words(
    speaker: Speaker,
    problems: tuple[Problem, ...],
    ids: list[UUID],
    shown: dict[str, dict[str, Any]],
) -> dict[str, Any]:
    """Each refused result named by its serial and title, not by its place in the list."""
    named = []
    for p in problems:
        head = p.field.removeprefix("submissions[").split("]", 1)[0]
        if not head.isdigit() or int(head) >= len(ids):
            continue
        row = shown.get(str(ids[int(head)]), {})
        text = (
            speaker.gettext(REVIEW_PROBLEMS[p.rule])
            if speaker.english and p.rule in REVIEW_PROBLEMS
            else p.message
        )
        named.append(f"{row.get('serial', '')} {row.get('title', '')}：{text}".strip())
    return {"refused_rows": named}


def _submission(
    speaker: Speaker, runtime: TenantRuntime, submission: Submission, row: FormalReviewRow | None
) -> dict[str, Any]:
    unit = runtime.tenant.unit(submission.recommending_unit)
    return {
        "id": str(submission.id),
        "serial": submission.serial or "",
        "title": submission.title,
        "unit_name": str(submission.applicant.get("unit_name", "")),
        "recommending_unit": unit.name_zh if unit else speaker.gettext("直接受理通道"),
        "topic": row_view(row, runtime, speaker)["topic"] if row else "",
        "outcome": row.outcome if row else "",
        "outcome_text": speaker.gettext(OUTCOMES[row.outcome]) if row else "",
        "version": submission.version,
    }


def _files(speaker: Speaker, submission: Submission, base: str, chosen: str) -> dict[str, Any]:
    listed = [
        {
            "sha256": a.sha256,
            "kind": speaker.gettext(ATTACHMENTS[AttachmentKind(a.kind)]),
            "name": a.name,
            "url": f"{base}/files/{a.sha256}",
            "pick": f"{base}?file={a.sha256}",
            "pdf": a.content_type == "application/pdf",
            "image": a.content_type.startswith("image/"),
        }
        for a in submission.attachments
    ]
    viewable = [f for f in listed if f["pdf"] or f["image"]]
    current = next(
        (f for f in viewable if f["sha256"] == chosen), viewable[0] if viewable else None
    )
    return {"listed": listed, "current": current}


def _minimum(runtime: TenantRuntime, submission: Submission) -> dict[str, Any] | None:
    """The least-results item (issue 23): computed from the register, not ticked; blocking a pass
    when the campaign says so. None where the campaign sets no minimum, or for a result forwarded
    from a member association (exempt)."""
    if submission.received_from is not None:
        return None
    found = runtime.ledger.results_count(submission.campaign_id, submission.credit_code)
    if not found.minimum:
        return None
    return {"text": found.item(), "met": found.met, "blocking": found.blocking}
