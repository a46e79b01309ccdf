"""What every command of a tenant's ledger stands on: load, save, and try again when a concurrent
write wins. Each context's commands are one class over this base (account_service.py,
submission_service.py, recommendation_service.py, review_service.py, forwarding_service.py,
audit_service.py); `AssociationLedger` (application.py) is all of them over one log."""

from __future__ import annotations

import pickle
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, tzinfo
from typing import ClassVar, Generic, TypeVar
from uuid import UUID
from zoneinfo import ZoneInfo

from eventsourcing.application import (
    AggregateNotFoundError,
    Application,
    ProcessingEvent,
    project_aggregate,
)
from eventsourcing.domain import Aggregate
from eventsourcing.persistence import IntegrityError, ProcessRecorder, Recording, Tracking

from aggregates.campaign import Campaign, CampaignNotFound, Programme
from aggregates.credentials import Passwords
from aggregates.problems import Conflict, DomainError, Problem, VersionConflict
from aggregates.submission import Submission, SubmissionNotFound

A = TypeVar("A", bound=Aggregate)
T = TypeVar("T")

BEIJING = ZoneInfo("Asia/Shanghai")
COMMAND_ATTEMPTS = 3
"""How often a command with no expected version is tried when a concurrent write wins."""
CONCURRENT_UPDATE = Problem("version", "concurrent_update", "记录正被他人同时修改，请稍后重试")


def utc_now() -> datetime:
    return datetime.now(UTC)


def retrying(attempt: Callable[[], T], conflict: Callable[[], DomainError] | None = None) -> T:
    """`attempt` (load, decide, save) run again on fresh state while a concurrent write wins its
    save (IntegrityError), at most COMMAND_ATTEMPTS times; then `conflict()` (by default a 409
    asking to try again). The one retry loop of the ledger's commands."""
    for _ in range(COMMAND_ATTEMPTS):
        try:
            return attempt()
        except IntegrityError:
            continue
    raise conflict() if conflict is not None else Conflict(CONCURRENT_UPDATE)


def check_version(expected_version: int | None, version: int) -> None:
    """A command that names the version it saw runs on that version only."""
    if expected_version is not None and expected_version != version:
        raise VersionConflict(expected_version, version)


@contextmanager
def expecting(expected_version: int | None, version: int) -> Iterator[None]:
    """Around a save: a command that named the version it saw is not retried when a concurrent
    write wins; its caller learns its state was old (VersionConflict). `version` is the one
    it loaded."""
    try:
        yield
    except IntegrityError:
        if expected_version is not None:
            raise VersionConflict(expected_version, version) from None
        raise


@dataclass(frozen=True)
class CurrentVersions:
    """The last versions of some of a tenant's aggregates, read from its store after the
    current request began (with the request's session: `api.platform.access`): a kept copy at
    such a version is what the store held when the request began, answered without a read of
    its own (`LedgerBase._load_kept`). Mutable within the request: a save forgets them all."""

    tenant: str
    versions: dict[UUID, int]


_CURRENT: ContextVar[CurrentVersions | None] = ContextVar("qcflow_current_versions", default=None)
"""Set per request (`current_as_of_request`); None elsewhere (the runners, the followers, the
command line), where every load of a kept copy reads what was stored after it. The handler's
threads copy the context, and so share the request's `CurrentVersions`."""


def current_as_of_request(tenant: str, versions: Mapping[UUID, int]) -> None:
    """For the rest of the current request (its asyncio task and the threads it hands work
    to): these are the last versions of these aggregates of `tenant`, read after it began."""
    _CURRENT.set(CurrentVersions(tenant, dict(versions)) if versions else None)


def _ignore(position: int) -> None:
    """No one waits for this ledger's writes (a CLI, a test without an app)."""


def _position(recordings: Sequence[Recording[UUID]]) -> int | None:
    return max((r.notification.id for r in recordings), default=None)


@dataclass(frozen=True)
class Saved(Generic[A]):
    """What a command leaves: the aggregate as saved, where its last event sits in the
    tenant's log (for read-your-writes), and whether it was created by this call."""

    aggregate: A
    position: int | None
    created: bool = False


@dataclass(frozen=True)
class TenantFacts:
    """What the tenant's configuration tells its commands, given to the ledger when it is built
    (tenants/runtime.py): a command then takes only what the user said."""

    units: tuple[str, ...] = ()
    """The recommending units' codes, in the configuration's order."""
    key_domains: frozenset[str] = frozenset()
    key_industries: frozenset[str] = frozenset()
    grades: Mapping[Programme, Mapping[str, str]] = field(default_factory=dict)
    """Per programme, its grades: code → name (e.g. benchmark → 标杆级)."""

    def grade_names(self, programme: Programme) -> dict[str, str]:
        return dict(self.grades.get(programme, {}))


class LedgerBase(Application[UUID]):
    """A tenant's event-sourced records in one log: the tenant, business time, load and save."""

    kept: ClassVar[Mapping[type[Aggregate], int]] = {}
    """The kinds of aggregate a ledger keeps in memory once loaded (`_load_kept`), and how many
    of each at most."""

    TENANT = "TENANT"
    """Environment key naming the tenant code whose ledger this is."""

    clock: Callable[[], datetime]
    """Business time for rules (is the window open?); tests replace it."""
    passwords: Passwords

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
        self.facts = TenantFacts()
        """The tenant's units, lists and grades (its runtime sets them from its configuration)."""
        self.on_saved: Callable[[int], None] = _ignore
        """Told where each save's last event sits in the log: the platform's read-your-writes
        (api/platform/read_your_writes.py) waits for the read models to pass it before answering."""
        self._kept: dict[type[Aggregate], dict[UUID, tuple[int, bytes]]] = {
            kind: {} for kind in self.kept
        }
        self._kept_lock = threading.Lock()

    def _record(self, processing_event: ProcessingEvent[UUID]) -> list[Recording[UUID]]:
        """The library's, once the current request's versions are forgotten: what it writes
        (or fails to, losing to a concurrent write) makes them old, and its next loads read."""
        current = _CURRENT.get()
        if current is not None:
            current.versions.clear()
        return super()._record(processing_event)

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

    def _notify(self, recordings: list[Recording[UUID]]) -> None:
        position = _position(recordings)
        if position is not None:
            self.on_saved(position)

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

    def today(self) -> date:
        """The date now in the tenant's zone: the day an audit trail is written under and read
        back by (one rule, whatever the server's or UTC's date)."""
        return self.clock().astimezone(self.zone).date()

    # The records most commands read.

    def get_campaign(self, campaign_id: UUID, version: int | None = None) -> Campaign:
        found = self._find(campaign_id, Campaign, version)
        if found is None or (version is None and found.is_deleted):  # a deleted rehearsal: gone
            raise CampaignNotFound(campaign_id)
        return found

    def _live_rehearsal(self, programme: Programme, year: int) -> tuple[int, Campaign | None]:
        """The number of the programme and year's rehearsal that is not deleted, or of the next
        one to open (None)."""
        number = 1
        while True:
            found = self._find(
                Campaign.create_rehearsal_id(self.tenant, programme, year, number), Campaign
            )
            if found is None or not found.is_deleted:
                return number, found
            number += 1

    def rehearsals(self, programme: Programme, year: int) -> list[Campaign]:
        """Every rehearsal of a programme and year, deleted ones too, in the order opened."""
        found: list[Campaign] = []
        while True:
            number = len(found) + 1
            campaign = self._find(
                Campaign.create_rehearsal_id(self.tenant, programme, year, number), Campaign
            )
            if campaign is None:
                return found
            found.append(campaign)

    def campaign_deleted(self, campaign_id: UUID) -> bool:
        """Whether the campaign is a deleted rehearsal: what was filed in it is gone too."""
        found = self._find(campaign_id, Campaign)
        return found is not None and found.is_deleted

    def get_submission(self, submission_id: UUID) -> Submission:
        found = self._find(submission_id, Submission)
        if found is None:
            raise SubmissionNotFound()
        return found

    # Load, call, save.

    def _find(self, aggregate_id: UUID, kind: type[A], version: int | None = None) -> A | None:
        try:
            if kind in self._kept and version is None:
                found: Aggregate = self._load_kept(aggregate_id, kind)
            else:
                found = self.repository.get(aggregate_id, version=version)
        except AggregateNotFoundError:
            return None
        return found if isinstance(found, kind) else None

    def _load_kept(self, aggregate_id: UUID, kind: type[Aggregate]) -> Aggregate:
        """The aggregate as stored now, brought forward from the copy this ledger keeps by the
        events stored after it: one statement, where loading it afresh is two (its snapshot's
        and its events') and a replay. For what nearly every command reads (its campaign, a
        draft's request twice; the acting account). The events are read each time, so what is
        answered is what is committed, as a load from the store answers; in a request that
        read the aggregate's last version with its session (`current_as_of_request`), a copy
        at that version is answered with no statement at all. The copy is kept
        pickled: each load gets an object of its own (a command changes what it is given, and
        its save may fail), and unpickling costs a fraction of a deep copy."""
        kept = self._kept[kind].get(aggregate_id)
        if kept is None:
            found: Aggregate = self.repository.get(aggregate_id)
            if isinstance(found, kind):
                self._keep(kind, found)
            return found
        version, pickled = kept
        aggregate: Aggregate = pickle.loads(pickled)  # noqa: S301 (our own, from this process)
        current = _CURRENT.get()
        if (
            current is not None
            and current.tenant == self.tenant
            and current.versions.get(aggregate_id, version + 1) <= version
        ):
            return aggregate  # nothing newer was stored when the request began
        newer = list(self.repository.event_store.get(originator_id=aggregate_id, gt=version))
        if newer:
            project_aggregate(aggregate, newer)
            self._keep(kind, aggregate)
        return aggregate

    def _keep(self, kind: type[Aggregate], aggregate: Aggregate) -> None:
        pickled = pickle.dumps(aggregate, pickle.HIGHEST_PROTOCOL)
        with self._kept_lock:
            kept = self._kept[kind]
            before = kept.get(aggregate.id)
            if before is not None and before[0] >= aggregate.version:
                return  # a concurrent command kept the same or a later one
            if before is None and len(kept) >= self.kept[kind]:
                del kept[next(iter(kept))]  # the first kept goes first
            kept[aggregate.id] = (aggregate.version, pickled)

    def _update(
        self,
        aggregate_id: UUID,
        kind: type[A],
        missing: Callable[[], DomainError],
        expected_version: int | None,
        command: Callable[[A], None],
    ) -> Saved[A]:
        """Load, call, save; retried when a concurrent write wins, unless a version was expected."""

        def attempt() -> Saved[A]:
            aggregate = self._find(aggregate_id, kind)
            if aggregate is None:
                raise missing()
            check_version(expected_version, aggregate.version)
            command(aggregate)
            with expecting(expected_version, aggregate.version - 1):
                return Saved(aggregate, self._save(aggregate))

        return retrying(attempt)

    def _save(self, *aggregates: Aggregate) -> int | None:
        """Save the aggregates' new events in one transaction; answers where the last sits in
        the log (for read-your-writes)."""
        return _position(self.save(*aggregates))
