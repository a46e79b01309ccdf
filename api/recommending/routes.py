"""A recommending unit's work in a campaign: its recommendation form (推荐表), statistics table
(统计表) and work summary (工作总结), with their exports; and the secretariat's decisions on them."""

from __future__ import annotations

from uuid import UUID

from litestar import Controller, Response, delete, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody, RawBody

from aggregates.actor import Actor, Role
from aggregates.campaign import Programme
from aggregates.recommendation import Recommendation
from aggregates.submission_forms import TOPIC_TYPE_NAMES_ZH, TopicType
from api.platform.access import access, only
from api.platform.dependencies import etag
from api.platform.exports import (
    XLSX,
    EntryLine,
    RecommendationSheet,
    download,
    recommendation_rows,
    to_csv,
    to_xlsx,
)
from api.platform.records import Records
from api.platform.schemas import QuotaIn, ReasonIn
from api.recommending.form_import import IMPORT_MAX_BYTES, XlsxUpload, import_form
from api.recommending.schemas import (
    DeclarationIn,
    DeclineIn,
    EntryIn,
    EntryOut,
    OrderIn,
    RecommendationOut,
    ReviewerIn,
)
from projections.service import READ_YOUR_WRITES_TIMEOUT, TenantViews
from projections.submission_list import SubmissionListProjection, submission_rows
from tenants.runtime import TenantRuntime

UNIT = only(Role.RECOMMENDING_UNIT)
READERS = only(Role.RECOMMENDING_UNIT, Role.SECRETARIAT, Role.AUDITOR)
SECRETARIAT = only(Role.SECRETARIAT)


def view(
    runtime: TenantRuntime, views: TenantViews, campaign_id: UUID, unit: str, name: str
) -> RecommendationOut:
    campaign = runtime.ledger.get_campaign(campaign_id)
    found = runtime.ledger.find_recommendation(campaign_id, unit)
    if found is None:
        return RecommendationOut.empty(
            campaign_id, unit, name, campaign.rules.recommending_unit_quota
        )
    # The entries' results as listed (read-your-writes: the list has seen every write so far).
    lists = views.runners[SubmissionListProjection.name]
    lists.wait(runtime.ledger.recorder.max_notification_id(), READ_YOUR_WRITES_TIMEOUT)
    rows = submission_rows(lists.db, [e["submission_id"] for e in found.entries])
    entries = []
    for rank, entry in enumerate(found.entries, 1):
        row = rows[str(entry["submission_id"])]
        entries.append(
            EntryOut(
                rank=rank,
                submission_id=row.submission_id,
                serial=row.serial,
                enterprise=row.unit_name,
                title=row.title,
                topic_type=TOPIC_TYPE_NAMES_ZH[TopicType(row.topic_type)]
                if row.topic_type
                else None,
                score=entry["score"],
                evaluation=entry["evaluation"],
                reviewer=entry["reviewer"],
            )
        )
    return RecommendationOut.of(found, name, found.quota(campaign), entries)


def respond(
    runtime: TenantRuntime, views: TenantViews, recommendation: Recommendation, name: str
) -> Response[RecommendationOut]:
    body = view(runtime, views, recommendation.campaign_id, recommendation.unit, name)
    return Response(body, headers={"ETag": etag(recommendation.version)})


class RecommendationController(Controller):
    path = "/api/v1/tenants/{tenant:str}/campaigns/{campaign_id:uuid}/units/{unit:str}"
    tags = ["recommendations 推荐"]

    @get(
        "/recommendation",
        operation_id="showRecommendation",
        sync_to_thread=True,
        opt=access(READERS),
    )
    def show(
        self,
        records: NamedDependency[Records],
        campaign_id: FromPath[UUID],
        unit: FromPath[str],
        runtime: NamedDependency[TenantRuntime],
        views: NamedDependency[TenantViews],
    ) -> RecommendationOut:
        return view(runtime, views, campaign_id, unit, records.unit_name(runtime, unit, own=False))

    @post(
        "/recommendation/entries",
        operation_id="addRecommendationEntry",
        sync_to_thread=True,
        opt=access(UNIT),
        status_code=200,
    )
    def add_entry(
        self,
        records: NamedDependency[Records],
        campaign_id: FromPath[UUID],
        unit: FromPath[str],
        data: JSONBody[EntryIn],
        runtime: NamedDependency[TenantRuntime],
        views: NamedDependency[TenantViews],
        actor: NamedDependency[Actor],
        expected_version: NamedDependency[int | None],
    ) -> Response[RecommendationOut]:
        name = records.unit_name(runtime, unit, own=True)
        changed = runtime.ledger.add_recommendation_entry(
            campaign_id,
            unit,
            data.submission_id,
            data.score,
            data.evaluation,
            data.reviewer,
            actor,
            expected_version,
        )
        return respond(runtime, views, changed, name)

    @delete(
        "/recommendation/entries/{submission_id:uuid}",
        operation_id="removeRecommendationEntry",
        sync_to_thread=True,
        opt=access(UNIT),
        status_code=200,
    )
    def remove_entry(
        self,
        records: NamedDependency[Records],
        campaign_id: FromPath[UUID],
        unit: FromPath[str],
        submission_id: FromPath[UUID],
        runtime: NamedDependency[TenantRuntime],
        views: NamedDependency[TenantViews],
        actor: NamedDependency[Actor],
        expected_version: NamedDependency[int | None],
    ) -> Response[RecommendationOut]:
        name = records.unit_name(runtime, unit, own=True)
        changed = runtime.ledger.remove_recommendation_entry(
            campaign_id, unit, submission_id, actor, expected_version
        )
        return respond(runtime, views, changed, name)

    @post(
        "/recommendation/order",
        operation_id="reorderRecommendation",
        sync_to_thread=True,
        opt=access(UNIT),
        status_code=200,
    )
    def reorder(
        self,
        records: NamedDependency[Records],
        campaign_id: FromPath[UUID],
        unit: FromPath[str],
        data: JSONBody[OrderIn],
        runtime: NamedDependency[TenantRuntime],
        views: NamedDependency[TenantViews],
        actor: NamedDependency[Actor],
        expected_version: NamedDependency[int | None],
    ) -> Response[RecommendationOut]:
        name = records.unit_name(runtime, unit, own=True)
        changed = runtime.ledger.reorder_recommendation(
            campaign_id, unit, list(data.order), actor, expected_version
        )
        return respond(runtime, views, changed, name)

    @post(
        "/recommendation/reviewers",
        operation_id="addRecommendationReviewer",
        sync_to_thread=True,
        opt=access(UNIT),
        status_code=200,
    )
    def add_reviewer(
        self,
        records: NamedDependency[Records],
        campaign_id: FromPath[UUID],
        unit: FromPath[str],
        data: JSONBody[ReviewerIn],
        runtime: NamedDependency[TenantRuntime],
        views: NamedDependency[TenantViews],
        actor: NamedDependency[Actor],
        expected_version: NamedDependency[int | None],
    ) -> Response[RecommendationOut]:
        name = records.unit_name(runtime, unit, own=True)
        changed = runtime.ledger.add_recommendation_reviewer(
            campaign_id, unit, data.to_reviewer(), actor, expected_version
        )
        return respond(runtime, views, changed, name)

    @delete(
        "/recommendation/reviewers/{certificate_number:str}",
        operation_id="removeRecommendationReviewer",
        sync_to_thread=True,
        opt=access(UNIT),
        status_code=200,
    )
    def remove_reviewer(
        self,
        records: NamedDependency[Records],
        campaign_id: FromPath[UUID],
        unit: FromPath[str],
        certificate_number: FromPath[str],
        runtime: NamedDependency[TenantRuntime],
        views: NamedDependency[TenantViews],
        actor: NamedDependency[Actor],
        expected_version: NamedDependency[int | None],
    ) -> Response[RecommendationOut]:
        name = records.unit_name(runtime, unit, own=True)
        changed = runtime.ledger.remove_recommendation_reviewer(
            campaign_id, unit, certificate_number, actor, expected_version
        )
        return respond(runtime, views, changed, name)

    @post(
        "/recommendation/not-recommended",
        operation_id="declineSubmission",
        sync_to_thread=True,
        opt=access(UNIT),
        status_code=200,
    )
    def decline(
        self,
        records: NamedDependency[Records],
        campaign_id: FromPath[UUID],
        unit: FromPath[str],
        data: JSONBody[DeclineIn],
        runtime: NamedDependency[TenantRuntime],
        views: NamedDependency[TenantViews],
        actor: NamedDependency[Actor],
        expected_version: NamedDependency[int | None],
    ) -> Response[RecommendationOut]:
        name = records.unit_name(runtime, unit, own=True)
        changed = runtime.ledger.decline_submission(
            campaign_id, unit, data.submission_id, data.reason, actor, expected_version
        )
        return respond(runtime, views, changed, name)

    @post(
        "/recommendation/declaration",
        operation_id="acceptDeclaration",
        sync_to_thread=True,
        opt=access(UNIT),
        status_code=200,
    )
    def declare(
        self,
        records: NamedDependency[Records],
        campaign_id: FromPath[UUID],
        unit: FromPath[str],
        data: JSONBody[DeclarationIn],
        runtime: NamedDependency[TenantRuntime],
        views: NamedDependency[TenantViews],
        actor: NamedDependency[Actor],
        expected_version: NamedDependency[int | None],
    ) -> Response[RecommendationOut]:
        name = records.unit_name(runtime, unit, own=True)
        changed = runtime.ledger.declare_recommendation(
            campaign_id, unit, data.filled_by, data.phone, actor, expected_version
        )
        return respond(runtime, views, changed, name)

    @post(
        "/recommendation/file",
        operation_id="fileRecommendation",
        sync_to_thread=True,
        opt=access(UNIT),
        status_code=200,
    )
    def file(
        self,
        records: NamedDependency[Records],
        campaign_id: FromPath[UUID],
        unit: FromPath[str],
        runtime: NamedDependency[TenantRuntime],
        views: NamedDependency[TenantViews],
        actor: NamedDependency[Actor],
        expected_version: NamedDependency[int | None],
    ) -> Response[RecommendationOut]:
        name = records.unit_name(runtime, unit, own=True)
        changed = runtime.ledger.file_recommendation(campaign_id, unit, actor, expected_version)
        return respond(runtime, views, changed, name)

    @post(
        "/recommendation/import",
        operation_id="importRecommendation",
        sync_to_thread=True,
        opt=access(UNIT),
        status_code=200,
        request_max_body_size=IMPORT_MAX_BYTES,
        operation_class=XlsxUpload,
    )
    def import_(
        self,
        records: NamedDependency[Records],
        campaign_id: FromPath[UUID],
        unit: FromPath[str],
        body: RawBody,
        runtime: NamedDependency[TenantRuntime],
        views: NamedDependency[TenantViews],
        actor: NamedDependency[Actor],
        expected_version: NamedDependency[int | None],
    ) -> Response[RecommendationOut]:
        """The form from its own .xlsx export, edited in Excel or WPS: its roster and ranked
        entries replace the form's by the form's rules; any refused row refuses the whole file,
        each row's problems listed (`row<n>.<field>`), nothing stored."""
        name = records.unit_name(runtime, unit, own=True)
        changed = import_form(views, campaign_id, unit, body, actor, expected_version)
        return respond(runtime, views, changed, name)

    @post(
        "/recommendation/return",
        operation_id="returnRecommendation",
        sync_to_thread=True,
        opt=access(SECRETARIAT),
        status_code=200,
    )
    def return_(
        self,
        records: NamedDependency[Records],
        campaign_id: FromPath[UUID],
        unit: FromPath[str],
        data: JSONBody[ReasonIn],
        runtime: NamedDependency[TenantRuntime],
        views: NamedDependency[TenantViews],
        actor: NamedDependency[Actor],
        expected_version: NamedDependency[int | None],
    ) -> Response[RecommendationOut]:
        name = records.unit_name(runtime, unit, own=False)
        changed = runtime.ledger.return_recommendation(
            campaign_id, unit, data.reason, actor, expected_version
        )
        return respond(runtime, views, changed, name)

    @post(
        "/recommendation/quota",
        operation_id="grantQuota",
        sync_to_thread=True,
        opt=access(SECRETARIAT),
        status_code=200,
    )
    def grant_quota(
        self,
        records: NamedDependency[Records],
        campaign_id: FromPath[UUID],
        unit: FromPath[str],
        data: JSONBody[QuotaIn],
        runtime: NamedDependency[TenantRuntime],
        views: NamedDependency[TenantViews],
        actor: NamedDependency[Actor],
        expected_version: NamedDependency[int | None],
    ) -> Response[RecommendationOut]:
        name = records.unit_name(runtime, unit, own=False)
        changed = runtime.ledger.grant_recommendation_quota(
            campaign_id, unit, data.extra, data.reason, actor, expected_version
        )
        return respond(runtime, views, changed, name)

    @post(
        "/recommendation/invalidate",
        operation_id="invalidateRecommendation",
        sync_to_thread=True,
        opt=access(SECRETARIAT),
        status_code=200,
    )
    def invalidate(
        self,
        records: NamedDependency[Records],
        campaign_id: FromPath[UUID],
        unit: FromPath[str],
        data: JSONBody[ReasonIn],
        runtime: NamedDependency[TenantRuntime],
        views: NamedDependency[TenantViews],
        actor: NamedDependency[Actor],
        expected_version: NamedDependency[int | None],
    ) -> Response[RecommendationOut]:
        name = records.unit_name(runtime, unit, own=False)
        changed = runtime.ledger.invalidate_recommendation(
            campaign_id, unit, data.reason, actor, expected_version
        )
        return respond(runtime, views, changed, name)

    @get(
        "/recommendation.xlsx",
        operation_id="exportRecommendationXlsx",
        sync_to_thread=True,
        opt=access(READERS),
    )
    def export_xlsx(
        self,
        records: NamedDependency[Records],
        campaign_id: FromPath[UUID],
        unit: FromPath[str],
        runtime: NamedDependency[TenantRuntime],
        views: NamedDependency[TenantViews],
    ) -> Response[bytes]:
        sheet = recommendation_sheet(runtime, views, records, campaign_id, unit)
        return download(
            to_xlsx("推荐表", recommendation_rows(sheet)), XLSX, f"{sheet.unit_name}-推荐表.xlsx"
        )

    @get(
        "/recommendation.csv",
        operation_id="exportRecommendationCsv",
        sync_to_thread=True,
        opt=access(READERS),
    )
    def export_csv(
        self,
        records: NamedDependency[Records],
        campaign_id: FromPath[UUID],
        unit: FromPath[str],
        runtime: NamedDependency[TenantRuntime],
        views: NamedDependency[TenantViews],
    ) -> Response[bytes]:
        sheet = recommendation_sheet(runtime, views, records, campaign_id, unit)
        return download(
            to_csv(recommendation_rows(sheet)),
            "text/csv; charset=utf-8",
            f"{sheet.unit_name}-推荐表.csv",
        )


def recommendation_sheet(
    runtime: TenantRuntime, views: TenantViews, records: Records, campaign_id: UUID, unit: str
) -> RecommendationSheet:
    name = records.unit_name(runtime, unit, own=False)
    body = view(runtime, views, campaign_id, unit, name)
    campaign = runtime.ledger.get_campaign(campaign_id)
    team = campaign.programme is Programme.TEAM
    reviewer_names = {r["certificate_number"]: r["name"] for r in body.reviewers}
    lines = []
    for e in body.entries:
        # The sheet's columns are the form's own: 小组名称 (or 班组名称), then the topic type
        # (a team's 班组人数 in its place); the title alone does not hold them.
        submission = runtime.ledger.get_submission(UUID(e.submission_id))
        group, _ = submission.group_and_topic
        detail = str(submission.form_state["team_size"]) if team else e.topic_type or ""
        reviewer = reviewer_names.get(e.reviewer, e.reviewer)
        lines.append(
            EntryLine(
                e.rank, e.enterprise, group, detail, e.score, reviewer, e.evaluation, e.serial or ""
            )
        )
    declaration = body.declaration or {}
    filed = f"{body.filed_at:%Y-%m-%d}" if body.filed_at else ""
    return RecommendationSheet(
        campaign,
        name,
        lines,
        body.reviewers,
        declaration.get("filled_by", ""),
        declaration.get("phone", ""),
        filed,
    )
