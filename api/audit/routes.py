"""Audit (审计): the history of a campaign, registration, submission, recommendation form, review
round or account, event by event with who, when and what changed; its state at a past moment or
version; and a campaign's review outcomes recomputed from the recorded score sheets, with every
difference. Auditors (and the secretariat) read; nothing here writes, and each read is logged."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from itertools import islice
from typing import Annotated
from uuid import UUID

import msgspec
from eventsourcing.domain import Aggregate
from litestar import Controller, get
from litestar import Response as HttpResponse
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery, QueryParameter

from aggregates.account import Account
from aggregates.actor import Actor
from aggregates.campaign import Campaign
from aggregates.ledger.audit import AuditNotFound, state_of
from aggregates.recommendation import Recommendation
from aggregates.registration import Registration
from aggregates.review_round import ReviewRound
from aggregates.submission import Submission
from api.audit.package import build_package
from api.audit.reads import AUDITORS, note_read
from api.audit.report import render_report
from api.audit.schemas import HistoryOut, PackageOut, RecomputationOut, StateOut, StepOut, plain
from api.platform.access import access
from api.platform.boundary import checked_moment
from api.platform.exports import download
from api.platform.schemas import in_zone
from tenants.runtime import TenantRuntime


class Kind(StrEnum):
    CAMPAIGN = "campaign"
    REGISTRATION = "registration"
    SUBMISSION = "submission"
    RECOMMENDATION = "recommendation"
    REVIEW_ROUND = "review_round"
    ACCOUNT = "account"


KINDS: dict[Kind, type[Aggregate]] = {
    Kind.CAMPAIGN: Campaign,
    Kind.REGISTRATION: Registration,
    Kind.SUBMISSION: Submission,
    Kind.RECOMMENDATION: Recommendation,
    Kind.REVIEW_ROUND: ReviewRound,
    Kind.ACCOUNT: Account,
}


class AuditController(Controller):
    path = "/api/v1/tenants/{tenant:str}/audit/{record:str}/{record_id:uuid}"
    tags = ["audit 审计"]

    @get("/history", operation_id="auditHistory", sync_to_thread=True, opt=access(AUDITORS))
    def history(
        self,
        record: FromPath[Kind],
        record_id: FromPath[UUID],
        runtime: NamedDependency[TenantRuntime],
        actor: NamedDependency[Actor],
        after: Annotated[int, QueryParameter(ge=0)] = 0,
        limit: Annotated[int, QueryParameter(ge=1, le=500)] = 100,
        lang: Annotated[str, QueryParameter(pattern="^(zh|en)$")] = "zh",
    ) -> HistoryOut:
        """Every event in order: when, who (account and role), what, and what it changed."""
        return history_of(runtime, actor, record, record_id, after, limit, lang)

    @get("/state", operation_id="auditState", sync_to_thread=True, opt=access(AUDITORS))
    def state(
        self,
        record: FromPath[Kind],
        record_id: FromPath[UUID],
        runtime: NamedDependency[TenantRuntime],
        actor: NamedDependency[Actor],
        at: FromQuery[datetime | None] = None,
        version: Annotated[int | None, QueryParameter(ge=1)] = None,
    ) -> StateOut:
        """The state as it was at `at` (recording time; without an offset, Beijing time) or after
        `version`; the latest without either."""
        at = checked_moment("at", at) if at is not None else None
        return state_at(runtime, actor, record, record_id, at, version)

    # Under the same {record}/{record_id} path as the other reads: Litestar's router does not
    # come back from a static segment, so its own /audit/campaign/... route would hide
    # /audit/campaign/{id}/history.
    @get(
        "/recomputation",
        operation_id="auditRecomputation",
        sync_to_thread=True,
        opt=access(AUDITORS),
    )
    def recomputation(
        self,
        record: FromPath[Kind],
        record_id: FromPath[UUID],
        runtime: NamedDependency[TenantRuntime],
        actor: NamedDependency[Actor],
    ) -> RecomputationOut:
        """A campaign's (`record` is `campaign`) sheet totals, stage scores, ranking and grades
        recomputed from its recorded score sheets and rules and compared with what was recorded
        and published; `intact` when nothing differs. Overrides and upheld objections that changed
        a grade are listed as decisions: recorded, not recomputable."""
        return recomputation_of(runtime, actor, record, record_id)

    @get(
        "/package.json", operation_id="auditPackageJson", sync_to_thread=True, opt=access(AUDITORS)
    )
    def package_json(
        self,
        record: FromPath[Kind],
        record_id: FromPath[UUID],
        runtime: NamedDependency[TenantRuntime],
        actor: NamedDependency[Actor],
    ) -> HttpResponse[bytes]:
        """The audit package of a submission or a campaign, as a JSON file: its history, the
        recomputation and the chain proof."""
        package = package_of(runtime, actor, record, record_id, "json")
        return download(
            msgspec.json.encode(package), "application/json", package_name(package, "json")
        )

    @get("/package.pdf", operation_id="auditPackagePdf", sync_to_thread=True, opt=access(AUDITORS))
    def package_pdf(
        self,
        record: FromPath[Kind],
        record_id: FromPath[UUID],
        runtime: NamedDependency[TenantRuntime],
        actor: NamedDependency[Actor],
    ) -> HttpResponse[bytes]:
        """The same audit package as a printable report (PDF, A4)."""
        package = package_of(runtime, actor, record, record_id, "pdf")
        return download(render_report(package), "application/pdf", package_name(package, "pdf"))


def history_of(
    runtime: TenantRuntime,
    actor: Actor,
    record: Kind,
    record_id: UUID,
    after: int = 0,
    limit: int = 100,
    lang: str = "zh",
) -> HistoryOut:
    """One page of a record's history (noted in the reader's trail): the API's and the
    auditor's desk's."""
    note_read(runtime, actor, "history", record.value, record_id, after=after, lang=lang)
    # One step beyond the page tells whether there is a next one; the rest is not replayed.
    steps = list(islice(runtime.ledger.history(record_id, KINDS[record], after), limit + 1))
    if not steps and after == 0:
        runtime.ledger.state_at(record_id, KINDS[record])  # answers 404 for none such
    page = steps[:limit]
    return HistoryOut(
        kind=record.value,
        record_id=str(record_id),
        items=[StepOut.of(s, lang, runtime) for s in page],
        next_after=page[-1].version if len(steps) > limit else None,
    )


def state_at(
    runtime: TenantRuntime,
    actor: Actor,
    record: Kind,
    record_id: UUID,
    at: datetime | None = None,
    version: int | None = None,
) -> StateOut:
    """A record's state at a moment (recording time) or after a version (noted)."""
    note_read(runtime, actor, "state", record.value, record_id, at=at, version=version)
    moment = in_zone(at, runtime.tenant.zone) if at is not None else None
    found = runtime.ledger.state_at(record_id, KINDS[record], at=moment, version=version)
    return StateOut(
        kind=record.value,
        record_id=str(record_id),
        version=found.version,
        as_of=in_zone(found.modified_on, runtime.tenant.zone),
        state=plain(state_of(found)),
    )


def recomputation_of(
    runtime: TenantRuntime, actor: Actor, record: Kind, record_id: UUID
) -> RecomputationOut:
    """A campaign's outcomes recomputed from its recorded sheets and rules (noted)."""
    note_read(runtime, actor, "recomputation", record.value, record_id)
    if record is not Kind.CAMPAIGN:
        raise AuditNotFound("record")
    names = runtime.grade_names(runtime.ledger.get_campaign(record_id).programme)
    found = runtime.ledger.recompute(record_id)
    return RecomputationOut.of(record_id, found, names, runtime)


PACKAGED = (Kind.SUBMISSION, Kind.CAMPAIGN)


def package_of(
    runtime: TenantRuntime, actor: Actor, record: Kind, record_id: UUID, form: str
) -> PackageOut:
    if record not in PACKAGED:
        raise AuditNotFound("record")
    note_read(runtime, actor, "package", record.value, record_id, form=form)
    return build_package(runtime, record.value, record_id, actor)


def package_name(package: PackageOut, suffix: str) -> str:
    return f"审计包-{package.tenant}-{package.subject}-{package.record_id}.{suffix}"
