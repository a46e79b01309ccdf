"""A recommending unit's work in a campaign: its recommendation form (推荐表), statistics table
(统计表) and work summary (工作总结), with their exports; and the secretariat's decisions on them."""

from __future__ import annotations

from uuid import UUID

from litestar import Controller, Response, delete, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody

from aggregates.actor import Actor, Role
from aggregates.campaign import Programme
from aggregates.recommendation import Recommendation
from aggregates.recommendation_service import Command, entry_command, reviewer_command
from aggregates.submission_forms import TOPIC_TYPE_NAMES_ZH, TopicType
from api.access import access, not_found, only
from api.dependencies import etag
from api.exports import (
    XLSX,
    EntryLine,
    RecommendationSheet,
    download,
    recommendation_rows,
    to_csv,
    to_xlsx,
)
from api.recommendation_schemas import (
    DeclarationIn,
    DeclineIn,
    EntryIn,
    EntryOut,
    OrderIn,
    RecommendationOut,
    ReviewerIn,
)
from api.records import Records
from api.schemas import QuotaIn, ReasonIn
from tenants.runtime import TenantRuntime

UNIT = only(Role.RECOMMENDING_UNIT)
READERS = only(Role.RECOMMENDING_UNIT, Role.SECRETARIAT, Role.AUDITOR)
SECRETARIAT = only(Role.SECRETARIAT)


def view(runtime: TenantRuntime, campaign_id: UUID, unit: str, name: str) -> RecommendationOut:
    campaign = runtime.ledger.get_campaign(campaign_id)
    found = runtime.ledger.find_recommendation(campaign_id, unit)
    if found is None:
        return RecommendationOut.empty(
            campaign_id, unit, name, campaign.rules.recommending_unit_quota
        )
    entries = []
    for rank, entry in enumerate(found.entries, 1):
        submission = runtime.ledger.get_submission(entry["submission_id"])
        topic = submission.topic_type
        entries.append(
            EntryOut(
                rank=rank,
                submission_id=str(submission.id),
                serial=submission.serial,
                enterprise=str(submission.applicant.get("unit_name", "")),
                title=submission.title,
                group_name=submission.group_and_topic[0],
                topic_type=TOPIC_TYPE_NAMES_ZH[TopicType(topic)] if topic else None,
                score=entry["score"],
                evaluation=entry["evaluation"],
                reviewer=entry["reviewer"],
            )
        )
    return RecommendationOut.of(found, name, found.quota(campaign), entries)


def respond(
    runtime: TenantRuntime, recommendation: Recommendation, name: str
) -> Response[RecommendationOut]:
    body = view(runtime, recommendation.campaign_id, recommendation.unit, name)
    return Response(body, headers={"ETag": etag(recommendation.version)})


class RecommendationController(Controller):
    path = "/api/v1/tenants/{tenant:str}/campaigns/{campaign_id:uuid}/units/{unit:str}"
    tags = ["recommendations 推荐"]

    def _change(
        self,
        records: Records,
        runtime: TenantRuntime,
        campaign_id: UUID,
        unit: str,
        command: Command,
        actor: Actor,
        expected_version: int | None,
        *,
        own: bool = True,
    ) -> Response[RecommendationOut]:
        name = records.unit_name(runtime, unit, own=own)
        changed = runtime.ledger.change_recommendation(
            campaign_id, unit, command, actor, expected_version
        )
        return respond(runtime, changed, name)

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
    ) -> RecommendationOut:
        return view(runtime, campaign_id, unit, records.unit_name(runtime, unit, own=False))

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
        actor: NamedDependency[Actor],
        expected_version: NamedDependency[int | None],
    ) -> Response[RecommendationOut]:
        records.unit_name(runtime, unit, own=True)
        candidate = runtime.ledger.candidate(data.submission_id)
        if candidate.recommending_unit != unit:
            raise not_found("submission_id")  # another unit's entry does not exist for this one
        command = entry_command(candidate, data.score, data.evaluation, data.reviewer, actor)
        return self._change(records, runtime, campaign_id, unit, command, actor, expected_version)

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
        actor: NamedDependency[Actor],
        expected_version: NamedDependency[int | None],
    ) -> Response[RecommendationOut]:
        return self._change(
            records,
            runtime,
            campaign_id,
            unit,
            lambda r, c, at: r.remove_entry(c, submission_id, at, actor),
            actor,
            expected_version,
        )

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
        actor: NamedDependency[Actor],
        expected_version: NamedDependency[int | None],
    ) -> Response[RecommendationOut]:
        return self._change(
            records,
            runtime,
            campaign_id,
            unit,
            lambda r, c, at: r.reorder(c, list(data.order), at, actor),
            actor,
            expected_version,
        )

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
        actor: NamedDependency[Actor],
        expected_version: NamedDependency[int | None],
    ) -> Response[RecommendationOut]:
        return self._change(
            records,
            runtime,
            campaign_id,
            unit,
            reviewer_command(data.to_reviewer(), actor),
            actor,
            expected_version,
        )

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
        actor: NamedDependency[Actor],
        expected_version: NamedDependency[int | None],
    ) -> Response[RecommendationOut]:
        return self._change(
            records,
            runtime,
            campaign_id,
            unit,
            lambda r, c, at: r.remove_reviewer(c, certificate_number, at, actor),
            actor,
            expected_version,
        )

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
        actor: NamedDependency[Actor],
        expected_version: NamedDependency[int | None],
    ) -> Response[RecommendationOut]:
        records.unit_name(runtime, unit, own=True)
        candidate = runtime.ledger.candidate(data.submission_id)
        if candidate.recommending_unit != unit:
            raise not_found("submission_id")
        return self._change(
            records,
            runtime,
            campaign_id,
            unit,
            lambda r, c, at: r.decline(c, candidate, data.reason, at, actor),
            actor,
            expected_version,
        )

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
        actor: NamedDependency[Actor],
        expected_version: NamedDependency[int | None],
    ) -> Response[RecommendationOut]:
        return self._change(
            records,
            runtime,
            campaign_id,
            unit,
            lambda r, c, at: r.accept_declaration(c, data.filled_by, data.phone, at, actor),
            actor,
            expected_version,
        )

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
        actor: NamedDependency[Actor],
        expected_version: NamedDependency[int | None],
    ) -> Response[RecommendationOut]:
        return self._change(
            records,
            runtime,
            campaign_id,
            unit,
            lambda r, c, at: r.file(c, at, actor),
            actor,
            expected_version,
        )

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
        actor: NamedDependency[Actor],
        expected_version: NamedDependency[int | None],
    ) -> Response[RecommendationOut]:
        return self._change(
            records,
            runtime,
            campaign_id,
            unit,
            lambda r, c, at: r.return_to_unit(data.reason, actor),
            actor,
            expected_version,
            own=False,
        )

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
        actor: NamedDependency[Actor],
        expected_version: NamedDependency[int | None],
    ) -> Response[RecommendationOut]:
        return self._change(
            records,
            runtime,
            campaign_id,
            unit,
            lambda r, c, at: r.grant_quota(data.extra, data.reason, actor),
            actor,
            expected_version,
            own=False,
        )

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
        actor: NamedDependency[Actor],
        expected_version: NamedDependency[int | None],
    ) -> Response[RecommendationOut]:
        return self._change(
            records,
            runtime,
            campaign_id,
            unit,
            lambda r, c, at: r.invalidate(data.reason, actor),
            actor,
            expected_version,
            own=False,
        )

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
    ) -> Response[bytes]:
        sheet = _sheet(runtime, records, campaign_id, unit)
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
    ) -> Response[bytes]:
        sheet = _sheet(runtime, records, campaign_id, unit)
        return download(
            to_csv(recommendation_rows(sheet)),
            "text/csv; charset=utf-8",
            f"{sheet.unit_name}-推荐表.csv",
        )


def _sheet(
    runtime: TenantRuntime, records: Records, campaign_id: UUID, unit: str
) -> RecommendationSheet:
    name = records.unit_name(runtime, unit, own=False)
    body = view(runtime, campaign_id, unit, name)
    campaign = runtime.ledger.get_campaign(campaign_id)
    team = campaign.programme is Programme.TEAM
    reviewer_names = {r["certificate_number"]: r["name"] for r in body.reviewers}
    lines = []
    for e in body.entries:
        detail = e.topic_type or ""
        if team:  # the team form's 班组人数 stands where a QC form has its topic type
            detail = str(
                runtime.ledger.get_submission(UUID(e.submission_id)).form_state["team_size"]
            )
        reviewer = reviewer_names.get(e.reviewer, e.reviewer)
        lines.append(
            EntryLine(e.rank, e.enterprise, e.group_name, detail, e.score, reviewer, e.evaluation)
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
