"""The tenant's ledger: the eventsourcing Application whose command methods load, call and save."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, tzinfo
from typing import Any, ClassVar, Generic, TypeVar
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError, Application, ProcessingEvent
from eventsourcing.domain import Aggregate, MutableOrImmutableAggregate
from eventsourcing.persistence import IntegrityError, ProcessRecorder, Recording, Tracking

from aggregates.account import Account
from aggregates.account_service import AccountCommands
from aggregates.actor import Actor
from aggregates.audit_service import AuditQueries
from aggregates.audit_trail import AuditTrail
from aggregates.campaign import (
    Campaign,
    CampaignAlreadyOpened,
    CampaignNotFound,
    CampaignRules,
    Contact,
    Phase,
    Programme,
    Window,
)
from aggregates.credentials import Passwords
from aggregates.forwarding import Forwarding
from aggregates.forwarding_service import ForwardingCommands
from aggregates.grading import Grading
from aggregates.intake import Intake
from aggregates.problems import Conflict, DomainError, Problem, VersionConflict
from aggregates.recommendation_service import RecommendationCommands
from aggregates.review_round import ReviewRound
from aggregates.review_service import BEIJING, ReviewCommands
from aggregates.submission import Submission
from aggregates.submission_register import SubmissionRegister
from aggregates.submission_service import SubmissionCommands

A = TypeVar("A", bound=Aggregate)

COMMAND_ATTEMPTS = 3
"""How often a command with no expected version is tried when a concurrent write wins."""


def utc_now() -> datetime:
    return datetime.now(UTC)


def _position(recordings: Sequence[Recording[UUID]]) -> int | None:
    return max((r.notification.id for r in recordings), default=None)


@dataclass(frozen=True)
class Saved(Generic[A]):
    """What a command leaves: the aggregate as saved, where its last event sits in the
    tenant's log (for read-your-writes), and whether it was created by this call."""

    aggregate: A
    position: int | None
    created: bool = False


class AssociationLedger(
    AccountCommands,
    SubmissionCommands,
    RecommendationCommands,
    ReviewCommands,
    ForwardingCommands,
    AuditQueries,
    Application[UUID],
):
    """All event-sourced records of one association (tenant), in one log.

    The name is stored data: it names the tables (`ledger_events`) and tracking keys.
    """

    name = "ledger"
    TENANT = "TENANT"
    """Environment key naming the tenant code whose ledger this is."""

    clock: Callable[[], datetime]
    """Business time for rules (is the window open?); tests replace it."""
    passwords: Passwords

    snapshotting_intervals: ClassVar[dict[type[MutableOrImmutableAggregate[Any]], int]] = {
        Campaign: 50,
        Account: 50,
        Submission: 50,
        SubmissionRegister: 50,
        ReviewRound: 50,
        Grading: 50,
        Forwarding: 50,
        Intake: 50,
        AuditTrail: 50,
    }

    def __init__(self, env: Mapping[str, str] | None = None) -> None:
        super().__init__(env)
        tenant = self.env.get(self.TENANT)
        if not tenant:
            msg = f"{self.name}: environment key {self.TENANT} (the tenant code) is required"
            raise OSError(msg)
        self.tenant: str = tenant
        self.clock = utc_now
        self.zone: tzinfo = BEIJING
        """The tenant's time zone (its runtime sets it from the tenant's configuration)."""
        self.passwords = Passwords()

    def construct_recorder(self) -> ProcessRecorder:
        # A process recorder: what a forwarding process follows is tracked in the same
        # transaction as the events it records (exactly once across crashes).
        return self.factory.process_recorder()

    @property
    def process_recorder(self) -> ProcessRecorder:
        recorder = self.recorder
        if not isinstance(recorder, ProcessRecorder):
            raise TypeError(f"{self.name}: the recorder must be a process recorder")
        return recorder

    def tracked_position(self, upstream: str) -> int:
        """How far this ledger has followed the log of `upstream` (another tenant)."""
        return self.process_recorder.max_tracking_id(upstream) or 0

    def save_tracked(self, tracking: Tracking, *aggregates: Aggregate) -> int | None:
        """Save the aggregates' new events and the tracking position of the notification they
        answer, in one transaction; raises IntegrityError when that position was recorded
        already (processed before) or an aggregate was changed concurrently."""
        processing = ProcessingEvent[UUID](tracking)
        processing.collect_events(*aggregates)
        recordings = self._record(processing)
        self._take_snapshots(processing)
        self._notify(recordings)
        return _position(recordings)

    # Campaigns.

    def open_campaign(
        self,
        *,
        programme: Programme,
        year: int,
        title: str,
        document_number: str | None,
        theme: str | None,
        co_organisers: list[str],
        contact: Contact,
        period_start: date,
        period_end: date,
        rules: CampaignRules,
        timeline: Mapping[Phase, Window],
        actor: Actor,
        idempotency_key: str | None = None,
    ) -> Saved[Campaign]:
        """Open the campaign of a programme and year; a retry with the same key returns it."""
        campaign_id = Campaign.create_id(self.tenant, programme, year)
        for _ in range(COMMAND_ATTEMPTS):
            existing = self._find(campaign_id, Campaign)
            if existing is not None:
                if idempotency_key is not None and existing.idempotency_key == idempotency_key:
                    return Saved(existing, position=None)
                raise CampaignAlreadyOpened(
                    Problem(
                        "year",
                        "one_campaign_per_year",
                        f"{year} 年度的该项活动已开设：{existing.title}",
                    )
                )
            campaign = Campaign.open(
                tenant=self.tenant,
                programme=programme,
                year=year,
                title=title,
                document_number=document_number,
                theme=theme,
                co_organisers=co_organisers,
                contact=contact,
                period_start=period_start,
                period_end=period_end,
                rules=rules,
                timeline=timeline,
                actor=actor,
                idempotency_key=idempotency_key,
            )
            try:
                return Saved(campaign, self._save(campaign), created=True)
            except IntegrityError:
                continue  # opened concurrently: answer as for an existing campaign
        raise CampaignAlreadyOpened(Problem("year", "one_campaign_per_year", "该项活动已开设"))

    def get_campaign(self, campaign_id: UUID, version: int | None = None) -> Campaign:
        found = self._find(campaign_id, Campaign, version)
        if found is None:
            raise CampaignNotFound(campaign_id)
        return found

    def reschedule_phase(
        self,
        campaign_id: UUID,
        phase: Phase,
        window: Window,
        actor: Actor,
        expected_version: int | None = None,
    ) -> Saved[Campaign]:
        return self._update_campaign(
            campaign_id,
            expected_version,
            lambda c: c.reschedule_phase(phase, window, self.clock(), actor),
        )

    def extend_deadline(
        self,
        campaign_id: UUID,
        phase: Phase,
        until: datetime,
        reason: str,
        actor: Actor,
        expected_version: int | None = None,
    ) -> Saved[Campaign]:
        return self._update_campaign(
            campaign_id,
            expected_version,
            lambda c: c.extend_deadline(phase, until, reason, self.clock(), actor),
        )

    def amend_rules(
        self,
        campaign_id: UUID,
        changes: Mapping[str, Any],
        reason: str,
        actor: Actor,
        expected_version: int | None = None,
    ) -> Saved[Campaign]:
        return self._update_campaign(
            campaign_id,
            expected_version,
            lambda c: c.amend_rules(changes, reason, self.clock(), actor),
        )

    def publish_results(
        self,
        campaign_id: UUID,
        grade_names: Mapping[str, str],
        actor: Actor,
        expected_version: int | None = None,
    ) -> Saved[Campaign]:
        """Publish the results: with a certificate per graded result when the review ran here
        (and each forwarded result's outcome sent back to its association); the campaign alone
        when its review ran elsewhere (nothing graded on the platform)."""
        if self._find(Grading.create_id(campaign_id), Grading) is not None:
            campaign, _, position = self.publish_with_certificates(
                campaign_id, grade_names, actor, expected_version
            )
            return Saved(campaign, position)
        return self._update_campaign(
            campaign_id, expected_version, lambda c: c.publish_results(self.clock(), actor)
        )

    def archive_campaign(
        self, campaign_id: UUID, reason: str, actor: Actor, expected_version: int | None = None
    ) -> Saved[Campaign]:
        return self._update_campaign(
            campaign_id, expected_version, lambda c: c.archive(reason, actor)
        )

    def open_phases(self, campaign_id: UUID, at: datetime) -> list[Phase]:
        return self.get_campaign(campaign_id).open_phases(at)

    # Audit reads: the one thing an audit writes is the record that it read.

    def note_audit_read(
        self,
        actor: Actor,
        what: str,
        record: str | None = None,
        record_id: UUID | None = None,
        detail: Mapping[str, str] | None = None,
    ) -> None:
        """Add a read to the account's audit trail of the day (the tenant's day)."""
        day = self.today()
        trail_id = AuditTrail.create_id(self.tenant, actor.user_id, day)
        for _ in range(COMMAND_ATTEMPTS):
            trail = self._find(trail_id, AuditTrail) or AuditTrail.start(self.tenant, day, actor)
            trail.note_read(what, record, record_id, dict(detail or {}), actor)
            try:
                self._save(trail)
            except IntegrityError:
                continue  # the same account read at the same moment elsewhere: again
            return
        raise Conflict(Problem("version", "concurrent_update", "记录正被他人同时修改，请稍后重试"))

    def audit_trail(self, account_id: str, on: date) -> AuditTrail | None:
        return self._find(AuditTrail.create_id(self.tenant, account_id, on), AuditTrail)

    def today(self) -> date:
        """The date now in the tenant's zone: the day an audit trail is written under and read
        back by (one rule, whatever the server's or UTC's date)."""
        return self.clock().astimezone(self.zone).date()

    # Load, call, save.

    def _find(self, aggregate_id: UUID, kind: type[A], version: int | None = None) -> A | None:
        try:
            found: Aggregate = self.repository.get(aggregate_id, version=version)
        except AggregateNotFoundError:
            return None
        return found if isinstance(found, kind) else None

    def _update(
        self,
        aggregate_id: UUID,
        kind: type[A],
        missing: Callable[[], DomainError],
        expected_version: int | None,
        command: Callable[[A], None],
    ) -> Saved[A]:
        """Load, call, save; retried when a concurrent write wins, unless a version was expected."""
        for _ in range(COMMAND_ATTEMPTS):
            aggregate = self._find(aggregate_id, kind)
            if aggregate is None:
                raise missing()
            if expected_version is not None and expected_version != aggregate.version:
                raise VersionConflict(expected_version, aggregate.version)
            command(aggregate)
            try:
                return Saved(aggregate, self._save(aggregate))
            except IntegrityError:
                if expected_version is not None:
                    raise VersionConflict(expected_version, aggregate.version - 1) from None
        raise Conflict(Problem("version", "concurrent_update", "记录正被他人同时修改，请稍后重试"))

    def _update_campaign(
        self,
        campaign_id: UUID,
        expected_version: int | None,
        command: Callable[[Campaign], None],
    ) -> Saved[Campaign]:
        return self._update(
            campaign_id, Campaign, lambda: CampaignNotFound(campaign_id), expected_version, command
        )

    def _save(self, *aggregates: Aggregate) -> int | None:
        """Save the aggregates' new events in one transaction; answers where the last sits in
        the log (for read-your-writes)."""
        return _position(self.save(*aggregates))
