"""The processes on the forwarding edge between a member association (a province or an industry
association) and its national parent:

- the national intake follows the association's forwarding events and records each forwarded
  result as a national submission (and each withdrawal, each statistics table and work summary);
- the outcome return follows the national tenant's outcome events for this association and
  records each on the association's own submission.

Each is a `Follower`: it reads the other tenant's log by topic (only the forwarding events, so
nothing else crosses), handles each event in one transaction with its tracking position (the
library's process recorder), so every event is recorded exactly once across crashes and
restarts; it holds a lock (advisory lock or file lock) so one follower per edge and direction is
active and a second one waits; it wakes on LISTEN/NOTIFY on PostgreSQL and by polling on SQLite.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from uuid import UUID

import psycopg
import structlog
from eventsourcing.domain import DomainEventProtocol
from eventsourcing.persistence import IntegrityError, Tracking
from eventsourcing.utils import get_topic

from aggregates.forwarding import Forwarding
from aggregates.submission import Submission
from projections import listener
from projections.runner import STORE_ERRORS, ClaimedLoop, RunnerStatus
from projections.store import Claim, ViewDatabase, open_view_database
from tenants.runtime import Platform, TenantRuntime

log = structlog.get_logger(__name__)

Handler = Callable[[DomainEventProtocol[UUID], Tracking], bool]
"""Records one followed event with its tracking position; answers whether it was one to record
(False: not for this edge, nothing written)."""

FORWARDING_TOPICS = tuple(
    get_topic(c)
    for c in (Forwarding.ResultForwarded, Forwarding.ForwardWithdrawn, Forwarding.ReportForwarded)
)
OUTCOME_TOPICS = (get_topic(Submission.OutcomeSent),)
ATTEMPTS = 8
"""How often one event is handled again when a concurrent write downstream wins."""


class Follower(ClaimedLoop):
    """Follows one tenant's ledger into another's, exactly once, in a background thread."""

    kind = "follower"

    def __init__(
        self,
        name: str,
        upstream: TenantRuntime,
        downstream: TenantRuntime,
        topics: tuple[str, ...],
        handle: Handler,
        claims: ViewDatabase,
        *,
        batch_size: int = 100,
        poll_interval: float = 0.5,
        max_backoff: float = 10.0,
    ) -> None:
        # The claim is held in the downstream tenant's view database; the wake-ups come from
        # the upstream ledger's channel.
        super().__init__(
            name,
            claims,
            upstream.location.ledger_channel,
            poll_interval,
            max_backoff,
            log.bind(follower=name),
        )
        self.name = name
        self.upstream = upstream
        self.downstream = downstream
        self.topics = topics
        self.handle = handle
        self.batch_size = batch_size
        self._scanned = 0
        self._head = 0
        up, down = upstream.location, downstream.location
        self._other_server = up.conninfo if up.conninfo != down.conninfo else None
        """Where the upstream ledger notifies, when its server is not the claim's (ADR 30)."""

    def _claimed(self) -> AbstractContextManager[Claim]:
        if self._other_server is None or self.upstream.location.conninfo is None:
            return super()._claimed()
        return self._watching(self._other_server)

    @contextmanager
    def _watching(self, conninfo: str) -> Iterator[Claim]:
        # The claim (the lock) on the downstream's server, the wake-ups from the upstream's:
        # its NOTIFY reaches only the listeners of its own server.
        with super()._claimed() as claim:
            shared = listener.acquire(conninfo, self.upstream.location.pool_size)
            try:
                watch = shared.listener.watch(self.channel, self._nudge, self.wake_topics())
                try:
                    yield _Watched(claim, watch)
                finally:
                    shared.listener.release(watch)
            finally:
                listener.release(conninfo)

    @property
    def position(self) -> int:
        """The last of the upstream's notifications recorded downstream."""
        return self.downstream.ledger.tracked_position(self.upstream.tenant.code)

    def status(self) -> RunnerStatus:
        try:
            head = self.upstream.ledger.recorder.max_notification_id() or 0
            position = max(self.position, self._scanned)
        except STORE_ERRORS as e:
            return RunnerStatus(self.name, "reconnecting", self._scanned, self._head, str(e))
        state = self._state if self._thread is not None else "external"
        return RunnerStatus(self.name, state, position, head, self._error)

    def wake_topics(self) -> frozenset[str] | None:
        return frozenset(self.topics) if self.topics else None

    def activated(self, claim: Claim) -> None:
        self._scanned = 0  # from what is recorded, not what another holder scanned
        self._log.info("follower_active")

    def step(self) -> bool:
        return self.catch_up_once()

    def catch_up_once(self) -> bool:
        """Record the next batch of followed events, if any; answers whether there was one."""
        recorder = self.upstream.ledger.recorder
        head = recorder.max_notification_id() or 0
        self._head = head
        start = max(self.position, self._scanned)
        if head <= start:
            return False
        notifications = recorder.select_notifications(
            start=start + 1, limit=self.batch_size, stop=head, topics=self.topics
        )
        for notification in notifications:
            event = self.upstream.ledger.mapper.to_domain_event(notification)
            if self._record(event, notification.id):
                self._log.info(
                    "follower_recorded", position=notification.id, topic=notification.topic
                )
            self._scanned = notification.id
        # Up to `head` every id is committed (the ledger's table lock), so a short page means
        # nothing followed is left before `head`.
        full = len(notifications) == self.batch_size
        self._scanned = notifications[-1].id if full else head
        return True

    def _record(self, event: DomainEventProtocol[UUID], notification_id: int) -> bool:
        tracking = Tracking(self.upstream.tenant.code, notification_id)
        for attempt in range(1, ATTEMPTS + 1):
            try:
                return self.handle(event, tracking)
            except IntegrityError:
                if self.position >= notification_id:
                    return False  # recorded already (by an earlier holder of the lock)
                if attempt == ATTEMPTS:
                    raise
                # A concurrent change of a downstream record (another association's intake
                # numbering in the same national register, say): after a short random pause,
                # handle it again on fresh state.
                time.sleep(random.uniform(0.005, 0.05) * attempt)  # noqa: S311 (not security)
        return False

    def catch_up(self) -> int:
        """Record every followed event up to the upstream's head (commands and tests)."""
        while self.catch_up_once():
            pass
        return self.position


@dataclass(frozen=True)
class Edge:
    """A member association and its national parent, and the association's code there."""

    member: TenantRuntime
    national: TenantRuntime
    unit: str


def edges(platform: Platform) -> Iterator[Edge]:
    for member in platform.tenants.values():
        parent = member.tenant.national_parent
        national = platform.get(parent) if parent is not None else None
        unit = platform.registry.national_unit(member.tenant.code)
        if national is not None and unit is not None:
            yield Edge(member, national, unit.code)


def national_intake(edge: Edge, claims: ViewDatabase, poll_interval: float = 0.5) -> Follower:
    """The national tenant's follower of what one member association forwards."""
    member, national = edge.member, edge.national
    origin = member.tenant.code

    def handle(event: DomainEventProtocol[UUID], tracking: Tracking) -> bool:
        ledger = national.ledger
        if isinstance(event, Forwarding.ResultForwarded):
            for attachment in event.dossier["submission"]["attachments"]:
                national.files.adopt(member.files, attachment["sha256"])
            ledger.receive_forward(event, origin, edge.unit, tracking)
        elif isinstance(event, Forwarding.ForwardWithdrawn):
            ledger.receive_withdrawal(event, origin, edge.unit, tracking)
        elif isinstance(event, Forwarding.ReportForwarded):
            ledger.receive_report(event, origin, edge.unit, tracking)
        else:
            return False
        return True

    return Follower(
        f"intake_{origin}",
        member,
        national,
        FORWARDING_TOPICS,
        handle,
        claims,
        poll_interval=poll_interval,
    )


def outcome_return(edge: Edge, claims: ViewDatabase, poll_interval: float = 0.5) -> Follower:
    """The member association's follower of the national outcomes of what it forwarded."""
    member, national = edge.member, edge.national
    code = member.tenant.code

    def handle(event: DomainEventProtocol[UUID], tracking: Tracking) -> bool:
        if not isinstance(event, Submission.OutcomeSent) or event.origin_tenant != code:
            return False  # another association's outcome: not read further, not recorded
        member.ledger.record_national_outcome(event, national.tenant.code, tracking)
        return True

    name = f"outcomes_from_{national.tenant.code}"
    return Follower(
        name, national, member, OUTCOME_TOPICS, handle, claims, poll_interval=poll_interval
    )


class _Watched:
    """A claim held on one server, woken by a watch of the upstream ledger's server too."""

    def __init__(self, claim: Claim, watch: listener.ListenerClaim) -> None:
        self.claim = claim
        self.watch = watch

    @property
    def held(self) -> bool:
        return self.claim.held

    @held.setter
    def held(self, value: bool) -> None:
        self.claim.held = value

    @property
    def listener_pid(self) -> int | None:
        return self.claim.listener_pid

    def passed(self, applied: int, position: int) -> bool:
        return False  # the upstream's notifications reach the watch, not the claim

    def notified_head(self) -> int | None:
        return None  # the same: the follower asks its upstream ledger

    def wait(self, timeout: float) -> None:
        self.claim.wait(timeout)
        if self.watch.lost:
            raise psycopg.OperationalError("the upstream server's listening connection was lost")


class ForwardingProcesses:
    """Both followers of every forwarding edge of a platform, started and stopped together."""

    def __init__(self, platform: Platform, poll_interval: float = 0.5) -> None:
        self.followers: list[Follower] = []
        self.claims: dict[str, ViewDatabase] = {}
        """One view database per tenant that followers record into, where they hold locks."""
        try:
            for edge in edges(platform):
                national, member = edge.national.tenant.code, edge.member.tenant.code
                self.followers.append(
                    national_intake(edge, self._claims(edge.national), poll_interval)
                )
                self.followers.append(
                    outcome_return(edge, self._claims(edge.member), poll_interval)
                )
                log.debug("forwarding_edge", member=member, national=national)
        except BaseException:
            self.close()
            raise

    def _claims(self, runtime: TenantRuntime) -> ViewDatabase:
        code = runtime.tenant.code
        if code not in self.claims:
            self.claims[code] = open_view_database(runtime.location, "forwarding")
        return self.claims[code]

    def __iter__(self) -> Iterator[Follower]:
        return iter(self.followers)

    def start(self) -> None:
        for follower in self.followers:
            follower.start()

    def close(self) -> None:
        for follower in self.followers:
            follower.stop()
        for db in self.claims.values():
            db.close()
