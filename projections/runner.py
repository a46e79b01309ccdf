"""The projection runner: feeds a read model from a tenant's ledger, in batches, exactly once.

Why not the library's ProjectionRunner: it applies one event per transaction, does not run on
SQLite and stops for good when its LISTEN connection drops. This runner
- reads a batch of notifications up to the ledger's head and applies them, together with the
  tracking position (compare-and-set), in one view transaction;
- from position 0 over a long history (a first start, a rebuild's shadow) builds the read model
  in a stage instead, SQLite in process, and copies it in with its position in one transaction
  (`_catch_up_staged`, ADR 26);
- wakes on LISTEN/NOTIFY on PostgreSQL, by polling (or an in-process nudge) on SQLite;
- reconnects with back-off after a lost connection, and retries a failing step loudly;
- stops at an event it cannot apply (or read), with state `halted` naming the event, one log
  line, and the halt recorded beside its position (so a status read from the stores shows it);
- runs only where it holds its projection's lock (advisory lock or file lock): one active
  runner per projection, others stand by;
- reports its position, the ledger's head and the lag between them.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import ClassVar, Self
from uuid import UUID

import psycopg
import structlog
from eventsourcing.domain import DomainEventProtocol
from eventsourcing.persistence import IntegrityError, Notification, PersistenceError

from aggregates.ledger.application import AssociationLedger
from projections.store import Claim, TrackingConflict, Tx, ViewDatabase
from tenants.transcoder import LeanMapper

log = structlog.get_logger(__name__)

STORE_ERRORS = (psycopg.Error, PersistenceError, sqlite3.OperationalError)
"""What a lost or busy database raises: the runner reconnects rather than fails."""
TRANSIENT_ERRORS = (
    psycopg.OperationalError,
    psycopg.InterfaceError,
    PersistenceError,
    sqlite3.OperationalError,
)
"""What a lost, busy or restarting database raises while an event is applied: tried again. Any
other error applying an event (PostgreSQL refusing its data, a constraint, a bug) would fail the
same way each time."""


NOTIFY_GRACE = 0.02
"""Seconds a read-your-writes wait gives the write's notification to reach an active runner of
this process before it nudges the runner to look (its notification normally comes in well
under a millisecond; a nudge costs the runner a read)."""


def progress_channel(ledger_channel: str) -> str:
    """Where the runners of a ledger's read models tell, on each batch's commit, how far they
    have applied it (payload `"<read model> <position>"`): a process that waits for them
    without running them listens there (`projections.progress`)."""
    return f"{ledger_channel}_views"


STAGE_OVER = 2000
"""A runner at position 0 builds its read model in a `Stage` (where its view database has
one) when the ledger holds more events than this: a first start, or a rebuild's shadow, over
a long history. Below it, a few batches do as well and show their progress as they go (a stage
moves the position once, at its end)."""

SKIP_WRITE_EVERY = 1000
"""A runner that meets no event of its own stores its position at most once per this many
events (so that a restart does not read them all again)."""


class CannotApply(Exception):
    """An event a loop cannot read or apply: retrying would fail the same way, so it stops there
    until a person acts (a fixed projection, a repaired event) and it is started again."""

    def __init__(self, position: int, topic: str, error: BaseException) -> None:
        self.position, self.topic = position, topic
        super().__init__(
            f"event {position} ({topic}) cannot be applied: {type(error).__name__}: {error}"
        )


class Projection(ABC):
    """A read model: its tables, and how each event of interest changes them."""

    name: ClassVar[str]
    """Stable forever: names the view (SQLite file) and its tracking key."""
    topics: ClassVar[tuple[str, ...]] = ()
    """Topics of the events it reads; empty reads every event."""
    tables: ClassVar[tuple[str, ...]] = ()
    """Its tables: a rebuild builds them again under shadow names and swaps them in."""
    reads: ClassVar[Mapping[type, tuple[str, ...]]] = {}
    """The fields its handlers read of the events a rebuild meets most (besides the originator's
    id and version, always there). Built from zero in a stage, only those are decoded of such an
    event; a handler that reads another field there sends the stage back to batches, which
    decode every event whole (tested with every read model over the demo's seasons)."""

    @abstractmethod
    def create_tables(self, tx: Tx) -> None: ...

    @abstractmethod
    def process(self, event: DomainEventProtocol[UUID], tx: Tx, position: int) -> None:
        """Apply one event; called inside the batch's transaction."""

    def drop_tables(self, tx: Tx) -> None:
        for table in self.tables:
            tx.execute(f"DROP TABLE IF EXISTS {{{table}}}")


class ClaimedLoop(ABC):
    """A background thread that works only while it holds its claim (one active per name, the
    others stand by), wakes on the upstream ledger's writes, and reconnects with back-off after
    a lost connection; a failing step is retried loudly. Projection runners and forwarding
    followers are both such loops."""

    kind: ClassVar[str]
    """Names the thread and the log events (`<kind>_active`, `<kind>_failed`, …)."""

    def __init__(
        self,
        name: str,
        claims: ViewDatabase,
        channel: str,
        poll_interval: float,
        max_backoff: float,
        log: structlog.typing.FilteringBoundLogger,
    ) -> None:
        self.claim_name = name
        self.claims = claims
        """Where the loop holds its claim (and, for a projection, writes its view)."""
        self.channel = channel
        self.poll_interval = poll_interval
        self.max_backoff = max_backoff
        self._state = "starting"
        self._error: str | None = None
        self._stop = threading.Event()
        self._nudge = threading.Event()
        self._thread: threading.Thread | None = None
        self._log = log

    @abstractmethod
    def step(self) -> bool:
        """Do the next piece of work, if any; answers whether there was one."""

    @abstractmethod
    def activated(self, claim: Claim) -> None:
        """Called on becoming the active one."""

    def wake_topics(self) -> frozenset[str] | None:
        """The topics whose writes wake the loop (None: every write)."""
        return None

    def _claimed(self) -> AbstractContextManager[Claim]:
        """The loop's claim, whose wait wakes on the upstream ledger's writes of its topics."""
        return self.claims.claim(self.claim_name, self.channel, self._nudge, self.wake_topics())

    def halted(self, reason: CannotApply) -> None:  # noqa: B027 (most loops keep nothing)
        """Called once when the loop stops at what it cannot apply."""

    def start(self) -> Self:
        self._thread = threading.Thread(
            target=self._run, name=f"{self.kind}-{self.claim_name}", daemon=True
        )
        self._thread.start()
        return self

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        self._nudge.set()
        if self._thread is not None:
            self._thread.join(timeout)
        self._state = "stopped"

    def nudge(self) -> None:
        """Look for new events now (an in-process write just happened)."""
        self._nudge.set()

    def _run(self) -> None:
        backoff = 0.1
        while not self._stop.is_set():
            try:
                with self._claimed() as claim:
                    while not claim.held and not self._stop.is_set():
                        self._state = "standby"
                        claim.wait(self.poll_interval * 4)  # tries to take it over
                    if self._stop.is_set():
                        break
                    self._state, self._error = "active", None
                    self.activated(claim)
                    while not self._stop.is_set():
                        worked = self.step()
                        backoff = 0.1  # a step went through: the back-off starts over
                        if not worked:
                            claim.wait(self.poll_interval)
            except CannotApply as e:
                # Retrying would fail alike, ten times a second: stop, say so once, let go of
                # the claim (a runner elsewhere meets the same event and stops the same way).
                self._state, self._error = "halted", str(e)
                self._log.error(
                    f"{self.kind}_halted", position=e.position, topic=e.topic, error=str(e)
                )
                self.halted(e)
                return
            except IntegrityError as e:
                # A concurrent write downstream kept winning (followers): back off, go on.
                self._state, self._error = "contended", f"{type(e).__name__}: {e}"
                self._log.warning(f"{self.kind}_contended", error=self._error, retry_in=backoff)
            except STORE_ERRORS as e:
                self._state, self._error = "reconnecting", f"{type(e).__name__}: {e}"
                self._log.warning(
                    f"{self.kind}_store_unavailable", error=self._error, retry_in=backoff
                )
            except Exception as e:
                # A bug (or a fault in what was followed): loudly, keep the position, try again.
                self._state, self._error = "failed", f"{type(e).__name__}: {e}"
                self._log.exception(f"{self.kind}_failed", retry_in=backoff)
            self._stop.wait(backoff)
            backoff = min(backoff * 2, self.max_backoff)


@dataclass(frozen=True)
class RunnerStatus:
    projection: str
    state: str
    """starting, active, standby, reconnecting, failed, halted (at an event it cannot apply),
    stopped, or external (run elsewhere)."""
    position: int
    head: int
    error: str | None

    @property
    def lag(self) -> int:
        return max(self.head - self.position, 0)


class ProjectionRunner(ClaimedLoop):
    """One projection of one tenant, fed from that tenant's ledger by a background thread."""

    kind = "projection"

    def __init__(
        self,
        projection: Projection,
        ledger: AssociationLedger,
        db: ViewDatabase,
        channel: str,
        *,
        batch_size: int = 500,
        poll_interval: float = 0.5,
        max_backoff: float = 10.0,
        stage_over: int = STAGE_OVER,
    ) -> None:
        super().__init__(
            projection.name,
            db,
            channel,
            poll_interval,
            max_backoff,
            log.bind(tenant=ledger.tenant, projection=projection.name),
        )
        self.projection = projection
        self._process = projection.process
        """Taken once: a `singledispatchmethod` makes a new function on every access (~1.8 µs
        an event, in a batch or a stage)."""
        self.ledger = ledger
        mapper = ledger.mapper
        self._staged_event = (
            mapper.reading(projection.reads)
            if isinstance(mapper, LeanMapper)
            else mapper.to_domain_event
        )
        self.db = db
        self.batch_size = batch_size
        self.listener_pid: int | None = None
        self.stage_over = stage_over
        """Ledgers longer than this are caught up from position 0 in a stage (`_catch_up_staged`)."""
        self.events_applied = 0
        """Events applied by this runner since it was made (a rebuild reports them)."""
        self._position = 0
        self._scanned = 0
        """How far this runner has read while active: up to here no event of interest is left
        unapplied, though the stored position may be behind (see `catch_up_once`)."""
        self._head = 0
        self._expected = 0
        """The last position `expect` nudged this runner for."""
        self._stored: int | None = None
        """The stored position as this runner last read or wrote it, while active (None: read
        it). A rebuild's swap or a reset may move it meanwhile: its next batch then fails the
        compare-and-set (TrackingConflict, nothing written) and the runner reads it again."""
        self._unstaged = False
        """The stage met what batches must meet on their own (`_catch_up_staged`)."""
        self._claim: Claim | None = None
        self._primed = False
        """Whether, holding `_claim`, it has applied its events up to a head read since it
        claimed: from then on the claim's notifications tell which writes were its own."""
        self._progress = threading.Condition()
        with db.transaction() as tx:
            projection.create_tables(tx)

    # Life cycle.

    def status(self) -> RunnerStatus:
        if self._thread is None:
            # Not run in this process (a worker runs it): report what the stores say.
            try:
                head = self.ledger.recorder.max_notification_id() or 0
                position, halt = self._stored_position(), self.stored_halt()
                if halt is not None and halt[0] > position:
                    return RunnerStatus(self.projection.name, "halted", position, head, halt[1])
                return RunnerStatus(self.projection.name, "external", position, head, None)
            except STORE_ERRORS as e:
                return RunnerStatus(self.projection.name, "external", 0, 0, str(e))
        return RunnerStatus(
            self.projection.name, self._state, self._position, self._head, self._error
        )

    def wake_topics(self) -> frozenset[str] | None:
        return frozenset(self.projection.topics) if self.projection.topics else None

    def runs_here(self) -> bool:
        """Whether this process runs the read model (started here), active or standing by."""
        return self._thread is not None

    def wait(self, position: int | None, timeout: float = 5.0) -> bool:
        """Read-your-writes: wait until the view has passed `position`, at most `timeout` s.

        A write that carries none of the read model's topics is passed as soon as everything
        before it is: active here, the runner is not even woken for it (the listener tells it
        was not its own); run elsewhere, the ledger is asked whether any event of its topics
        lies between its stored position and `position`."""
        if position is None:
            return True
        if self._state == "halted":
            return self._position >= position  # it will not move: no waiting
        deadline = time.monotonic() + timeout
        self.expect(position)
        nudged = self.listener_pid is None  # by `expect`: no notification will come (SQLite)
        while True:
            if self._position >= position or self._passed(position):
                return True
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return False
            if not nudged and (self._state != "active" or remaining < timeout - NOTIFY_GRACE):
                self.nudge()  # its notification has not come: look now
                nudged = True
            with self._progress:
                self._progress.wait(min(remaining, 0.002 if not nudged else 0.05))

    def known_passed(self, position: int) -> bool:
        """Whether the view is known to have passed `position` without asking the store (the
        event loop may ask): its applied position, or, active here, the notifications since.
        False means only "not known here", which `wait` finds out."""
        if self._position >= position:
            return True
        claim = self._claim
        return (
            self._state == "active"
            and self._primed
            and claim is not None
            and claim.passed(self._position, position)
        )

    def expect(self, position: int | None) -> None:
        """A write at `position` was made in this process: a runner that no notification will
        wake (SQLite) starts looking now, so that a wait for every read model costs the
        slowest of them, not their sum."""
        if (
            position is not None
            and self.listener_pid is None
            and self._position < position
            and position > self._expected  # once per write, however many wait for it
        ):
            self._expected = position
            self.nudge()

    def _passed(self, position: int) -> bool:
        if self._state == "active":
            return self.known_passed(position)
        # Another process may be the active runner: then only the stored position moves, and
        # only with a batch of its own events.
        try:
            with self.db.read() as tx:
                stored = tx.position(self.projection.name, self.ledger.name)
            if stored >= position:
                return True
            if not self.projection.topics:
                return False
            return not self.ledger.recorder.select_notifications(
                start=stored + 1, limit=1, stop=position, topics=self.projection.topics
            )
        except STORE_ERRORS:
            return False

    def _stored_position(self) -> int:
        if self._state == "active":
            return self._position
        try:
            with self.db.read() as tx:
                return tx.position(self.projection.name, self.ledger.name)
        except STORE_ERRORS:
            return 0

    # The loop.

    def activated(self, claim: Claim) -> None:
        self._claim, self._primed = claim, False
        self._stored = None
        self._scanned = 0  # from what is stored, not what this runner saw while it last held it
        self.listener_pid = claim.listener_pid
        self._log.info("projection_runner_active", listener_pid=claim.listener_pid)
        self._record_halt(None)  # tried again from here: a halt recorded before is past

    def halted(self, reason: CannotApply) -> None:
        self._record_halt(reason)

    def stored_halt(self) -> tuple[int, str] | None:
        """The event this projection last stopped at, and why, as recorded (any process)."""
        with self.db.read() as tx:
            return tx.halt(self.projection.name, self.ledger.name)

    def _record_halt(self, reason: CannotApply | None) -> None:
        try:
            with self.db.transaction() as tx:
                tx.record_halt(
                    self.projection.name,
                    self.ledger.name,
                    (reason.position, str(reason)) if reason else None,
                )
        except STORE_ERRORS:
            # This process's state still says it; a status read from the stores will not.
            self._log.warning("projection_halt_not_recorded", exc_info=True)

    def step(self) -> bool:
        try:
            return self.catch_up_once()
        except TrackingConflict:
            self._log.info("projection_position_moved")  # reset or rival
            self._stored = None
            return True

    def catch_up_once(self) -> bool:
        """Apply the next batch, if any; returns whether there was one.

        A batch with no event of interest commits nothing: the runner only remembers how far it
        has looked (`_scanned`, from which it reads next), and writes that position with the next
        batch that has events, or once it is `SKIP_WRITE_EVERY` ahead of the stored one. Events
        passed over that way are none of this read model's, so a restart that reads them again
        (from the stored position) changes nothing, and after a rebuild's swap (which moves the
        stored position to the ledger's head of that moment) reading on from the further of the
        two misses nothing either."""
        active = self._state == "active"
        claim = self._claim
        notified = claim.notified_head() if active and self._primed and claim else None
        if notified is not None:
            # Every write up to the last one notified is committed (the writes hold the
            # ledger's table lock until they commit, and are notified in commit order): no
            # need to ask the ledger for its head on each wake.
            head = max(self._head, notified)
        else:
            head = self.ledger.recorder.max_notification_id() or 0
        self._head = head
        if active and self._stored is not None:
            stored = self._stored
        else:
            with self.db.read() as tx:
                stored = tx.position(self.projection.name, self.ledger.name)
            self._stored = stored if active else None
        start = max(stored, self._scanned)
        self._position = start
        if head <= start:
            self._primed = self._state == "active"
            return False
        if stored == 0 and head > self.stage_over and self._catch_up_staged(head):
            return True
        events, new_position = self.next_batch(start, head)
        if events or new_position - stored >= SKIP_WRITE_EVERY:
            self._apply(events, stored, new_position)
        else:
            self._passed_to(new_position)
        self._scanned = new_position
        return True

    def _catch_up_staged(self, head: int) -> bool:
        """From position 0 to `head` in one go: the read model built in its view database's stage
        (`ViewDatabase.stage`), then copied into its tables with the tracking position in one
        transaction. The log is read page by page as batches read it, each page while the one
        before is applied (a thread of its own, which mostly waits for the server). Each event is
        decoded here, in the thread that applies it, just before it is applied: decoded in the
        reading thread, the events held the GIL whenever a SQLite statement let it go, and the
        statement then waited for it (ADR 26, "Events decoded where they are applied"). Answers
        False where there is no stage, or where the stage cannot end the way batches would: an
        event that does not read or apply, or rows that PostgreSQL refuses (a NUL in a text,
        say), or a stage that cannot be made (no room for its file); the batches then go the
        usual way and stop at that event, naming it. A transient error leaves nothing written,
        and the next step stages again."""
        if self._unstaged:
            return False
        try:
            staging = self.db.stage()
        except (OSError, sqlite3.Error):
            self._unstaged = True
            self._log.warning("projection_stage_unavailable", exc_info=True)
            return False
        if staging is None:
            return False
        with staging as stage, ThreadPoolExecutor(1, f"stage-{self.claim_name}") as reader:
            self.projection.create_tables(stage.tx)
            upcoming = reader.submit(self._page, 0, head)
            position, applied = 0, 0
            to_event, process = self._staged_event, self._process
            while position < head:
                if self._stop.is_set():
                    return False  # stopping: the stage is dropped, nothing was written
                notifications, position = upcoming.result()
                if position < head:
                    upcoming = reader.submit(self._page, position, head)
                for n in notifications:
                    try:  # an event that does not read, or does not apply
                        process(to_event(n), stage.tx, n.id)
                    except Exception:
                        self._unstaged = True
                        self._log.info("projection_stage_left", position=n.id, exc_info=True)
                        return False
                applied += len(notifications)
            try:
                with self.db.transaction() as tx:
                    tx.advance(self.projection.name, self.ledger.name, 0, position)
                    tx.copy_stage(stage)
                    tx.notify(progress_channel(self.channel), f"{self.projection.name} {position}")
            except (TrackingConflict, *TRANSIENT_ERRORS):
                raise
            except psycopg.Error:
                self._unstaged = True
                self._log.info("projection_stage_refused", exc_info=True)
                return False
        self._scanned = position
        self._committed(position, applied)
        self._log.info("projection_staged", events=applied, position=position)
        return True

    def next_batch(
        self, position: int, head: int
    ) -> tuple[list[tuple[int, DomainEventProtocol[UUID]]], int]:
        """The events of interest after `position` (one batch, up to `head`), and the position
        they lead to."""
        notifications, new_position = self._page(position, head)
        to_event = self.ledger.mapper.to_domain_event
        events: list[tuple[int, DomainEventProtocol[UUID]]] = []
        for n in notifications:
            try:
                events.append((n.id, to_event(n)))
            except Exception as e:  # a stored event that no longer reads
                raise CannotApply(n.id, n.topic, e) from e
        return events, new_position

    def _page(self, position: int, head: int) -> tuple[Sequence[Notification], int]:
        """The notifications of interest after `position` (one batch, up to `head`), and the
        position they lead to."""
        notifications = self.ledger.recorder.select_notifications(
            start=position + 1, limit=self.batch_size, stop=head, topics=self.projection.topics
        )
        # With the ledger's table lock, every id up to `head` is committed once `head` is
        # visible, so a short page means nothing of interest is left before `head`.
        full = len(notifications) == self.batch_size
        return notifications, notifications[-1].id if full else head

    def _apply(
        self,
        events: Sequence[tuple[int, DomainEventProtocol[UUID]]],
        position: int,
        new_position: int,
    ) -> None:
        try:
            self._write(events, position, new_position, batch=True)
        except (CannotApply, TrackingConflict, *TRANSIENT_ERRORS):
            raise
        except psycopg.Error:
            # Pipelined, PostgreSQL refuses a write (text holding a NUL, a constraint) at the
            # commit, not at its event: the batch again, unpipelined, names the event.
            self._write(events, position, new_position, batch=False)

    def _write(
        self,
        events: Sequence[tuple[int, DomainEventProtocol[UUID]]],
        position: int,
        new_position: int,
        *,
        batch: bool,
    ) -> None:
        with self.db.transaction(batch=batch) as tx:
            # Tracking first: on PostgreSQL the batch then holds the tracking row before it
            # touches a table, the order a rebuild's swap takes them in (no deadlock), and a
            # batch made stale by a swap fails here, before writing anything.
            tx.advance(self.projection.name, self.ledger.name, position, new_position)
            for notification_id, event in events:
                try:
                    self._process(event, tx, notification_id)
                except TRANSIENT_ERRORS:
                    raise
                except Exception as e:
                    if batch and isinstance(e, psycopg.Error):
                        # Pipelined, an earlier statement's error (the tracking's compare-and-set,
                        # say) comes with this one's answer: `_apply` writes the batch again
                        # unpipelined, which names what failed.
                        raise
                    raise CannotApply(notification_id, _topic(event), e) from e
            # Delivered on commit: a waiter in another process learns the position without
            # polling for it (a rebuild's shadow tells under its own name, which no one waits on).
            tx.notify(progress_channel(self.channel), f"{self.projection.name} {new_position}")
        self._committed(new_position, len(events))
        self._log.debug("projection_batch_applied", events=len(events), position=new_position)

    def _committed(self, position: int, applied: int) -> None:
        """A view transaction stored `position`, with `applied` events (a batch, a stage)."""
        self._stored = position
        self.events_applied += applied
        self._passed_to(position)

    def _passed_to(self, position: int) -> None:
        """The view has passed `position`: those who wait for it learn it now."""
        with self._progress:
            self._position = position
            self._progress.notify_all()

    def catch_up(self) -> int:
        """Apply every batch up to the ledger's head (used by commands and tests)."""
        while self.catch_up_once():
            pass
        return self._position


def _topic(event: DomainEventProtocol[UUID]) -> str:
    return f"{type(event).__module__}:{type(event).__qualname__}"
