"""Audit (审计): the history of a campaign, registration, submission, recommendation form, review
round or account, event by event with who, when and what changed; and its state at a past moment
or version. Auditors (and the secretariat) read; nothing here writes, and each read is logged."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any
from uuid import UUID

import msgspec
import structlog
from eventsourcing.domain import Aggregate
from litestar import Controller, get
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery, QueryParameter

from aggregates.account import Account
from aggregates.actor import ROLE_NAMES_ZH, Role
from aggregates.audit_service import Step, state_of
from aggregates.campaign import Campaign
from aggregates.recommendation import Recommendation
from aggregates.registration import Registration
from aggregates.review_round import ReviewRound
from aggregates.submission import Submission
from api.access import access, only
from api.audit_words import event_words
from api.schemas import Response, in_zone
from tenants.runtime import TenantRuntime

log = structlog.get_logger("qcflow.audit")
AUDITORS = only(Role.AUDITOR, Role.SECRETARIAT)


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


def _plain(value: Any) -> Any:
    return msgspec.to_builtins(value, enc_hook=str)


class StepOut(Response, kw_only=True, frozen=True):
    version: int
    at: datetime
    """When it was recorded (Beijing time)."""
    event: str
    what: str
    """The event in words (Chinese, or English with `lang=en`)."""
    actor_id: str | None
    actor_role: str | None
    actor_role_name: str | None
    recorded: dict[str, Any]
    changes: dict[str, dict[str, Any]]
    """Each part of the state it changed: before and after."""

    @classmethod
    def of(cls, step: Step, lang: str, runtime: TenantRuntime) -> StepOut:
        role = step.actor_role
        return cls(
            version=step.version,
            at=in_zone(step.at, runtime.tenant.zone),
            event=step.event,
            what=event_words(step.event, lang),
            actor_id=step.actor_id,
            actor_role=role,
            actor_role_name=(
                ROLE_NAMES_ZH.get(Role(role)) if role in set(Role) and lang != "en" else role
            ),
            recorded=_plain(step.recorded),
            changes={
                k: {"before": _plain(b), "after": _plain(a)} for k, (b, a) in step.changes.items()
            },
        )


class HistoryOut(Response, kw_only=True, frozen=True):
    kind: str
    record_id: str
    items: list[StepOut]
    next_after: int | None
    """The version to ask `after` for the next page; null on the last."""


class StateOut(Response, kw_only=True, frozen=True):
    kind: str
    record_id: str
    version: int
    as_of: datetime
    """When that version was recorded (Beijing time)."""
    state: dict[str, Any]


class AuditController(Controller):
    path = "/api/v1/tenants/{tenant:str}/audit/{record:str}/{record_id:uuid}"
    tags = ["audit 审计"]

    @get("/history", operation_id="auditHistory", sync_to_thread=True, opt=access(AUDITORS))
    def history(
        self,
        record: FromPath[Kind],
        record_id: FromPath[UUID],
        runtime: NamedDependency[TenantRuntime],
        after: Annotated[int, QueryParameter(ge=0)] = 0,
        limit: Annotated[int, QueryParameter(ge=1, le=500)] = 100,
        lang: Annotated[str, QueryParameter(pattern="^(zh|en)$")] = "zh",
    ) -> HistoryOut:
        """Every event in order: when, who (account and role), what, and what it changed."""
        log.info("audit_read", kind=record.value, record_id=str(record_id), read="history")
        steps = [s for s in runtime.ledger.history(record_id, KINDS[record]) if s.version > after]
        if not steps and after == 0:
            runtime.ledger.state_at(record_id, KINDS[record])  # answers 404 for none such
        page = steps[:limit]
        return HistoryOut(
            kind=record.value,
            record_id=str(record_id),
            items=[StepOut.of(s, lang, runtime) for s in page],
            next_after=page[-1].version if len(steps) > limit else None,
        )

    @get("/state", operation_id="auditState", sync_to_thread=True, opt=access(AUDITORS))
    def state(
        self,
        record: FromPath[Kind],
        record_id: FromPath[UUID],
        runtime: NamedDependency[TenantRuntime],
        at: FromQuery[datetime | None] = None,
        version: Annotated[int | None, QueryParameter(ge=1)] = None,
    ) -> StateOut:
        """The state as it was at `at` (recording time; without an offset, Beijing time) or after
        `version`; the latest without either."""
        log.info("audit_read", kind=record.value, record_id=str(record_id), read="state")
        moment = in_zone(at, runtime.tenant.zone) if at is not None else None
        found = runtime.ledger.state_at(record_id, KINDS[record], at=moment, version=version)
        return StateOut(
            kind=record.value,
            record_id=str(record_id),
            version=found.version,
            as_of=in_zone(found.modified_on, runtime.tenant.zone),
            state=_plain(state_of(found)),
        )
