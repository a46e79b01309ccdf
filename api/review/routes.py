"""Review by the secretariat and its experts: the review plan, formal review (形式审查), the reviewer
pool (评审专家库), rounds with their assignments, score sheets and score matrix, and the review
summary table (评审汇总表)."""

from __future__ import annotations

import builtins
from typing import Any
from uuid import UUID

from litestar import Controller, Request, Response, get, post, put
from litestar.concurrency import sync_to_thread
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody
from litestar.status_codes import HTTP_201_CREATED

from aggregates.actor import Actor, Role
from aggregates.problems import Problem
from aggregates.review_round import ReviewRound
from api.applicants.schemas import SubmissionOut
from api.platform.access import SIGNED_IN, access, not_found, only
from api.platform.dependencies import etag
from api.platform.errors import RequestProblem
from api.platform.exports import XLSX, download
from api.platform.records import Records
from api.platform.schemas import ReasonIn
from api.review.expert_import import MAX_BYTES, import_pool, template
from api.review.exports import review_summary_xlsx
from api.review.schemas import (
    AssignIn,
    AutoAssignIn,
    ConflictIn,
    ExpertIn,
    ExpertOut,
    FormalReviewBulkIn,
    FormalReviewIn,
    MatrixCell,
    MatrixOut,
    MatrixRow,
    OpenRoundIn,
    ReleaseIn,
    ReviewPlanIn,
    ReviewPlanOut,
    RoundOut,
    SheetImportOut,
    SheetIn,
    SheetOut,
)
from api.review.sheet_import import read_sheets, sheet_form_xlsx
from projections.review_board import (
    AssignmentRow,
    ExpertRow,
    list_experts,
    reviewer_queue,
    score_matrix,
)
from projections.service import TenantViews
from tenants.runtime import TenantRuntime

SECRETARIAT = only(Role.SECRETARIAT)
READERS = only(Role.SECRETARIAT, Role.AUDITOR)
SCORERS = only(Role.REVIEWER, Role.SECRETARIAT)
SHEET_FILE_MAX_BYTES = 5 * 1024 * 1024


def fresh(views: TenantViews) -> None:
    """Read-your-writes for a read model: wait until it has seen everything written so far."""
    views.wait(views.runtime.ledger.recorder.max_notification_id())


class ExpertController(Controller):
    path = "/api/v1/tenants/{tenant:str}/experts"
    tags = ["review 评审"]

    @get("/", operation_id="listExperts", sync_to_thread=True, opt=access(READERS))
    def list(self, views: NamedDependency[TenantViews]) -> list[ExpertRow]:
        fresh(views)
        return list_experts(views.db("review_board"))

    @post("/", operation_id="enrolExpert", sync_to_thread=True, opt=access(SECRETARIAT))
    def enrol(
        self,
        data: JSONBody[ExpertIn],
        runtime: NamedDependency[TenantRuntime],
        actor: NamedDependency[Actor],
    ) -> ExpertOut:
        return ExpertOut.of(runtime.ledger.enrol_expert(data.to_profile(), actor))

    @post(
        "/import",
        operation_id="importExperts",
        opt=access(SECRETARIAT),
        request_max_body_size=MAX_BYTES,
        status_code=HTTP_201_CREATED,
    )
    async def import_experts(
        self,
        request: Request[Any, Any, Any],
        runtime: NamedDependency[TenantRuntime],
        actor: NamedDependency[Actor],
    ) -> builtins.list[ExpertOut]:
        """A pool from a filled template (the .xlsx file is the body): every row checked; any
        row wrong, the whole file refused with each row's problems (`rows[n].<field>`), nothing
        stored."""
        content = await request.body()
        imported = await sync_to_thread(import_pool, runtime.ledger, content, actor)
        return [ExpertOut.of(e) for e in imported]

    @get(
        "/import-template.xlsx",
        operation_id="exportExpertTemplate",
        sync_to_thread=True,
        opt=access(SECRETARIAT),
    )
    def import_template(self, runtime: NamedDependency[TenantRuntime]) -> Response[bytes]:
        """The blank pool workbook `importExperts` reads."""
        name = f"{runtime.tenant.short_name_zh}评审专家库导入表.xlsx"
        return download(template(), XLSX, name)

    @get(
        "/{certificate_number:str}",
        operation_id="showExpert",
        sync_to_thread=True,
        opt=access(only(Role.SECRETARIAT, Role.AUDITOR, Role.REVIEWER)),
    )
    def show(
        self,
        records: NamedDependency[Records],
        certificate_number: FromPath[str],
        runtime: NamedDependency[TenantRuntime],
        actor: NamedDependency[Actor],
    ) -> ExpertOut:
        records.expert(certificate_number, actor.role)
        return ExpertOut.of(runtime.ledger.get_expert(certificate_number))

    @put(
        "/{certificate_number:str}",
        operation_id="changeExpert",
        sync_to_thread=True,
        opt=access(SECRETARIAT),
    )
    def change(
        self,
        certificate_number: FromPath[str],
        data: JSONBody[ExpertIn],
        runtime: NamedDependency[TenantRuntime],
        actor: NamedDependency[Actor],
    ) -> ExpertOut:
        changed = runtime.ledger.change_expert(certificate_number, data.to_profile(), actor)
        return ExpertOut.of(changed)

    @post(
        "/{certificate_number:str}/conflicts",
        operation_id="declareConflict",
        sync_to_thread=True,
        opt=access(only(Role.SECRETARIAT, Role.REVIEWER)),
        status_code=HTTP_201_CREATED,
    )
    def declare_conflict(
        self,
        records: NamedDependency[Records],
        certificate_number: FromPath[str],
        data: JSONBody[ConflictIn],
        runtime: NamedDependency[TenantRuntime],
        actor: NamedDependency[Actor],
    ) -> ExpertOut:
        records.expert(certificate_number, actor.role)
        declared = runtime.ledger.declare_conflict(
            certificate_number, data.kind, data.value, data.reason, actor
        )
        return ExpertOut.of(declared)

    @post(
        "/{certificate_number:str}/retire",
        operation_id="retireExpert",
        sync_to_thread=True,
        opt=access(SECRETARIAT),
        status_code=200,
    )
    def retire(
        self,
        certificate_number: FromPath[str],
        data: JSONBody[ReasonIn],
        runtime: NamedDependency[TenantRuntime],
        actor: NamedDependency[Actor],
    ) -> ExpertOut:
        return ExpertOut.of(runtime.ledger.retire_expert(certificate_number, data.reason, actor))


class ReviewController(Controller):
    path = "/api/v1/tenants/{tenant:str}"
    tags = ["review 评审"]

    @put(
        "/campaigns/{campaign_id:uuid}/review-plan",
        operation_id="planReview",
        sync_to_thread=True,
        opt=access(SECRETARIAT),
    )
    def plan(
        self,
        campaign_id: FromPath[UUID],
        data: JSONBody[ReviewPlanIn],
        runtime: NamedDependency[TenantRuntime],
        actor: NamedDependency[Actor],
        expected_version: NamedDependency[int | None],
    ) -> Response[ReviewPlanOut]:
        campaign = runtime.ledger.get_campaign(campaign_id)
        grades = {g.code for g in runtime.tenant.programmes[campaign.programme].grades}
        planned = runtime.ledger.plan_review(
            campaign_id, data.to_plan(), grades, actor, expected_version
        )
        body = ReviewPlanOut(campaign_id=campaign_id, plan=planned.review_plan.to_state())
        return Response(body, headers={"ETag": etag(planned.version)})

    @get(
        "/campaigns/{campaign_id:uuid}/review-plan",
        operation_id="showReviewPlan",
        sync_to_thread=True,
        opt=access(SIGNED_IN),
    )
    def show_plan(
        self, campaign_id: FromPath[UUID], runtime: NamedDependency[TenantRuntime]
    ) -> ReviewPlanOut:
        campaign = runtime.ledger.get_campaign(campaign_id)
        return ReviewPlanOut(campaign_id=campaign_id, plan=campaign.review_plan.to_state())

    @post(
        "/submissions/{submission_id:uuid}/formal-review",
        operation_id="reviewFormally",
        sync_to_thread=True,
        opt=access(SECRETARIAT),
        status_code=200,
    )
    def formal_review(
        self,
        submission_id: FromPath[UUID],
        data: JSONBody[FormalReviewIn],
        runtime: NamedDependency[TenantRuntime],
        actor: NamedDependency[Actor],
        expected_version: NamedDependency[int | None],
    ) -> SubmissionOut:
        reviewed = runtime.ledger.review_formally(
            submission_id,
            data.decision,
            data.checklist,
            data.reason,
            list(data.items),
            actor,
            expected_version,
        )
        return SubmissionOut.of(reviewed)

    @post(
        "/campaigns/{campaign_id:uuid}/formal-review",
        operation_id="reviewFormallyInBulk",
        sync_to_thread=True,
        opt=access(SECRETARIAT),
        status_code=200,
    )
    def formal_review_in_bulk(
        self,
        campaign_id: FromPath[UUID],
        data: JSONBody[FormalReviewBulkIn],
        runtime: NamedDependency[TenantRuntime],
        actor: NamedDependency[Actor],
    ) -> list[SubmissionOut]:
        """Several results at once, each meeting every checklist item: each passes by its own
        event; one refused (`submissions[i]`), none passes."""
        passed = runtime.ledger.review_formally_in_bulk(campaign_id, data.submissions, actor)
        return [SubmissionOut.of(s) for s in passed]

    # Rounds.

    @post(
        "/campaigns/{campaign_id:uuid}/rounds/{round_code:str}",
        operation_id="openRound",
        sync_to_thread=True,
        opt=access(SECRETARIAT),
    )
    def open_round(
        self,
        campaign_id: FromPath[UUID],
        round_code: FromPath[str],
        data: JSONBody[OpenRoundIn],
        runtime: NamedDependency[TenantRuntime],
        actor: NamedDependency[Actor],
    ) -> RoundOut:
        opened = runtime.ledger.open_round(
            campaign_id, round_code, data.submissions, data.top, actor
        )
        return RoundOut.of(opened)

    @get(
        "/campaigns/{campaign_id:uuid}/rounds/{round_code:str}",
        operation_id="showRound",
        sync_to_thread=True,
        opt=access(READERS),
    )
    def show_round(
        self,
        campaign_id: FromPath[UUID],
        round_code: FromPath[str],
        runtime: NamedDependency[TenantRuntime],
    ) -> RoundOut:
        return RoundOut.of(runtime.ledger.get_round(campaign_id, round_code))

    @post(
        "/campaigns/{campaign_id:uuid}/rounds/{round_code:str}/assignments",
        operation_id="assignReviewer",
        sync_to_thread=True,
        opt=access(SECRETARIAT),
        status_code=200,
    )
    def assign(
        self,
        campaign_id: FromPath[UUID],
        round_code: FromPath[str],
        data: JSONBody[AssignIn],
        runtime: NamedDependency[TenantRuntime],
        actor: NamedDependency[Actor],
    ) -> RoundOut:
        assigned = runtime.ledger.assign_reviewer(
            campaign_id,
            round_code,
            data.submission_id,
            data.certificate_number,
            actor,
        )
        return RoundOut.of(assigned)

    @post(
        "/campaigns/{campaign_id:uuid}/rounds/{round_code:str}/assignments/auto",
        operation_id="assignReviewersAutomatically",
        sync_to_thread=True,
        opt=access(SECRETARIAT),
        status_code=200,
    )
    def assign_automatically(
        self,
        campaign_id: FromPath[UUID],
        round_code: FromPath[str],
        data: JSONBody[AutoAssignIn],
        runtime: NamedDependency[TenantRuntime],
        views: NamedDependency[TenantViews],
        actor: NamedDependency[Actor],
    ) -> RoundOut:
        panel = data.certificate_numbers
        if panel is None:  # membership from the read model; each one's facts from the ledger
            fresh(views)
            panel = [e.certificate_number for e in list_experts(views.db("review_board"))]
        assigned = runtime.ledger.assign_automatically(campaign_id, round_code, panel, actor)
        return RoundOut.of(assigned)

    @post(
        "/campaigns/{campaign_id:uuid}/rounds/{round_code:str}/assignments/release",
        operation_id="releaseReviewer",
        sync_to_thread=True,
        opt=access(SECRETARIAT),
        status_code=200,
    )
    def release(
        self,
        campaign_id: FromPath[UUID],
        round_code: FromPath[str],
        data: JSONBody[ReleaseIn],
        runtime: NamedDependency[TenantRuntime],
        actor: NamedDependency[Actor],
    ) -> RoundOut:
        released = runtime.ledger.release_reviewer(
            campaign_id, round_code, data.submission_id, data.certificate_number, data.reason, actor
        )
        return RoundOut.of(released)

    @post(
        "/campaigns/{campaign_id:uuid}/rounds/{round_code:str}/sheets",
        operation_id="fileScoreSheet",
        sync_to_thread=True,
        opt=access(SCORERS),
    )
    def file_sheet(
        self,
        records: NamedDependency[Records],
        campaign_id: FromPath[UUID],
        round_code: FromPath[str],
        data: JSONBody[SheetIn],
        runtime: NamedDependency[TenantRuntime],
        actor: NamedDependency[Actor],
    ) -> SheetOut:
        reviewer = _scorer(records, actor, data)
        filed, sheet_id = runtime.ledger.file_sheet(
            campaign_id,
            round_code,
            submission_id=data.submission_id,
            reviewer=reviewer,
            criteria=data.criteria,
            comment=data.comment,
            corrects=data.corrects,
            reason=data.reason,
            actor=actor,
        )
        return SheetOut(sheet_id=sheet_id, round=records.round_out(filed))

    @post(
        "/campaigns/{campaign_id:uuid}/rounds/{round_code:str}/aggregate",
        operation_id="aggregateRound",
        sync_to_thread=True,
        opt=access(SECRETARIAT),
        status_code=200,
    )
    def aggregate(
        self,
        campaign_id: FromPath[UUID],
        round_code: FromPath[str],
        runtime: NamedDependency[TenantRuntime],
        actor: NamedDependency[Actor],
    ) -> RoundOut:
        return RoundOut.of(runtime.ledger.aggregate_round(campaign_id, round_code, actor))

    @post(
        "/campaigns/{campaign_id:uuid}/rounds/{round_code:str}/close",
        operation_id="closeRound",
        sync_to_thread=True,
        opt=access(SECRETARIAT),
        status_code=200,
    )
    def close(
        self,
        campaign_id: FromPath[UUID],
        round_code: FromPath[str],
        runtime: NamedDependency[TenantRuntime],
        actor: NamedDependency[Actor],
    ) -> RoundOut:
        return RoundOut.of(runtime.ledger.close_round(campaign_id, round_code, actor))

    # Read models.

    @get(
        "/campaigns/{campaign_id:uuid}/rounds/{round_code:str}/matrix",
        operation_id="showScoreMatrix",
        sync_to_thread=True,
        opt=access(READERS),
    )
    def matrix(
        self,
        campaign_id: FromPath[UUID],
        round_code: FromPath[str],
        views: NamedDependency[TenantViews],
    ) -> MatrixOut:
        return round_matrix(views, campaign_id, round_code)

    @get(
        "/campaigns/{campaign_id:uuid}/rounds/{round_code:str}/sheets/form.xlsx",
        operation_id="exportPaperSheetForm",
        sync_to_thread=True,
        opt=access(SECRETARIAT),
    )
    def sheet_form(
        self,
        campaign_id: FromPath[UUID],
        round_code: FromPath[str],
        runtime: NamedDependency[TenantRuntime],
    ) -> Response[bytes]:
        """The round's 评审汇总表 as a form for paper sheets: a row per judge and result still
        without a sheet, a column per criterion."""
        campaign = runtime.ledger.get_campaign(campaign_id)
        review_round = runtime.ledger.get_round(campaign_id, round_code)
        content = sheet_form_xlsx(campaign, review_round)
        return download(content, XLSX, f"{review_round.name_zh}纸质评分表录入.xlsx")

    @post(
        "/campaigns/{campaign_id:uuid}/rounds/{round_code:str}/sheets/import",
        operation_id="importPaperSheets",
        opt=access(SECRETARIAT),
        request_max_body_size=None,  # read here, up to SHEET_FILE_MAX_BYTES
        status_code=200,
    )
    async def import_sheets(
        self,
        request: Request[Any, Any, Any],
        campaign_id: FromPath[UUID],
        round_code: FromPath[str],
        runtime: NamedDependency[TenantRuntime],
        actor: NamedDependency[Actor],
    ) -> SheetImportOut:
        """Paper sheets typed into the form (the body is the .xlsx, any content type): every
        row checked; if any is wrong the whole file is refused (422) with each row's problems
        (`rows.<row>.<field>`), else each is filed as entered by the secretariat for its judge."""
        content = bytearray()
        async for chunk in request.stream():
            content += chunk
            if len(content) > SHEET_FILE_MAX_BYTES:
                raise RequestProblem(413, Problem("file", "max_size", "文件超过 5 MB"))
        return await sync_to_thread(
            import_paper_sheets, runtime, campaign_id, round_code, bytes(content), actor
        )

    @get(
        "/campaigns/{campaign_id:uuid}/review-queue",
        operation_id="showReviewQueue",
        sync_to_thread=True,
        opt=access(only(Role.REVIEWER)),
    )
    def queue(
        self,
        records: NamedDependency[Records],
        campaign_id: FromPath[UUID],
        views: NamedDependency[TenantViews],
    ) -> list[AssignmentRow]:
        views.runtime.ledger.get_campaign(campaign_id)  # another tenant's campaign: 404
        fresh(views)
        mine = records.reviewer_numbers()
        db = views.db("review_board")
        return [row for number in sorted(mine) for row in reviewer_queue(db, campaign_id, number)]

    @get(
        "/campaigns/{campaign_id:uuid}/rounds/{round_code:str}/summary.xlsx",
        operation_id="exportReviewSummary",
        sync_to_thread=True,
        opt=access(READERS),
    )
    def summary(
        self,
        campaign_id: FromPath[UUID],
        round_code: FromPath[str],
        runtime: NamedDependency[TenantRuntime],
    ) -> Response[bytes]:
        campaign = runtime.ledger.get_campaign(campaign_id)
        review_round = runtime.ledger.get_round(campaign_id, round_code)
        content = review_summary_xlsx(campaign, review_round)
        return download(content, XLSX, f"{campaign.title}-{review_round.name_zh}评审汇总表.xlsx")


def round_matrix(views: TenantViews, campaign_id: UUID, round_code: str) -> MatrixOut:
    """A round's score matrix (result × reviewer) from the review board, for the API and the
    round's page alike."""
    fresh(views)
    round_id = ReviewRound.create_id(campaign_id, round_code)
    entrants, cells = score_matrix(views.db("review_board"), round_id)
    if not entrants:
        raise not_found("round_code")
    by_submission: dict[str, list[AssignmentRow]] = {}
    for cell in cells:
        by_submission.setdefault(cell.submission_id, []).append(cell)
    rows = [
        MatrixRow(
            submission_id=e.submission_id,
            serial=e.serial,
            title=e.title,
            score=e.score,
            cells=[
                MatrixCell(
                    reviewer=c.reviewer,
                    reviewer_name=c.reviewer_name,
                    total=c.total,
                    sheet_id=c.sheet_id,
                    corrections=c.corrections,
                    entered_by=c.entered_by,
                )
                for c in by_submission.get(e.submission_id, [])
            ],
        )
        for e in entrants
    ]
    reviewers = sorted({c.reviewer for c in cells})
    return MatrixOut(round_id=round_id, reviewers=reviewers, rows=rows)


def import_paper_sheets(
    runtime: TenantRuntime, campaign_id: UUID, round_code: str, content: bytes, actor: Actor
) -> SheetImportOut:
    """A file of paper sheets read and entered, all or nothing (the API's and the page's)."""
    review_round = runtime.ledger.get_round(campaign_id, round_code)
    sheets, refused, blank = read_sheets(content, review_round)
    entered = runtime.ledger.import_paper_sheets(campaign_id, round_code, sheets, refused, actor)
    return SheetImportOut(filed=len(sheets), blank=blank, round=RoundOut.of(entered))


def _scorer(records: Records, actor: Actor, data: SheetIn) -> str:
    """Whose sheet it is: a reviewer files their own; the secretariat names the reviewer whose
    paper sheet it enters."""
    if actor.role is Role.REVIEWER:
        return records.scorer(data.reviewer)
    if data.reviewer is None:
        raise RequestProblem(
            422, Problem("reviewer", "required", "代评委录入评分表须注明评委证书编号")
        )
    return data.reviewer
