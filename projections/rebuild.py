"""Rebuilding a read model from zero while the platform serves: the projection is run again into
shadow tables beside the live ones, caught up while the live runner goes on, and swapped in.

Why a shadow: dropping the live tables would leave readers an empty or partial read model until
the runner had caught up again. Here the live read model serves until the swap, and the swap is
one view transaction: readers see the old tables or the new ones, never a mix.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any
from uuid import UUID

import structlog
from eventsourcing.domain import DomainEventProtocol

from aggregates.ledger.application import AssociationLedger
from projections.runner import Projection, ProjectionRunner, progress_channel
from projections.store import NAME, LockBusy, Tx, ViewDatabase

log = structlog.get_logger(__name__)

SHADOW = "__rebuild"
"""Suffix of a shadow's tables and of its tracking key."""
LOCK_WAIT = 0.5
"""How long a swap waits for the live tables (seconds) before it gives way and tries again.
Below PostgreSQL's deadlock_timeout (1 s): when a reader and the swap wait for each other, the
swap gives way before the deadlock check would abort either (the reader, perhaps)."""
SWAP_ATTEMPTS = 40
"""Then the swap fails (LockBusy): someone holds the live tables for minutes."""

_NAMED_INDEX = re.compile(r"^\s*CREATE\s+(UNIQUE\s+)?INDEX\s+(IF\s+NOT\s+EXISTS\s+)?\{", re.I)
_ANY_INDEX = re.compile(r"^\s*CREATE\s+(UNIQUE\s+)?INDEX\b", re.I)


class RebuildInProgress(Exception):
    """Another rebuild of the same read model holds its claim."""


@dataclass(frozen=True)
class Rebuilt:
    """What a rebuild did."""

    projection: str
    events: int
    """Events of interest applied to the shadow."""
    position: int
    """The ledger's head at the swap: where the live runner goes on from."""
    seconds: float


class ShadowTx(Tx):
    """A view transaction in which a projection's own `{table}` (and `{table.suffix}`) names
    stand for its shadow tables, so the unchanged projection writes into the shadow."""

    def __init__(self, tx: Tx, tables: tuple[str, ...]) -> None:
        self._tx = tx
        self._tables = tables

    def execute(
        self, statement: str, params: Mapping[str, Any] | None = None
    ) -> list[tuple[Any, ...]]:
        return self._tx.execute(_shadowed(statement, self._tables), params)

    def rowcount(self) -> int:
        return self._tx.rowcount()


@lru_cache(maxsize=1024)
def _shadowed(statement: str, tables: tuple[str, ...]) -> str:
    if _ANY_INDEX.match(statement) and not _NAMED_INDEX.match(statement):
        # A literal index name would be the live index's name: IF NOT EXISTS would skip the
        # shadow's index silently, and without it the statement would fail.
        raise ValueError(f"name an index after its table, {{table.suffix}}: {statement!r}")

    def rename(match: re.Match[str]) -> str:
        table, suffix = match.groups()
        if table not in tables:
            return match.group(0)
        return f"{{{table}{SHADOW}.{suffix}}}" if suffix else f"{{{table}{SHADOW}}}"

    return NAME.sub(rename, statement)


def shadow_of(live: Projection) -> Projection:
    """The same projection, under its own tracking key, writing into shadow tables."""

    live_process = live.process  # once: a singledispatchmethod is made on each access

    class Shadow(Projection):
        name = f"{live.name}{SHADOW}"
        topics = live.topics
        reads = live.reads
        tables = tuple(f"{table}{SHADOW}" for table in live.tables)

        def create_tables(self, tx: Tx) -> None:
            live.create_tables(ShadowTx(tx, live.tables))

        def process(self, event: DomainEventProtocol[UUID], tx: Tx, position: int) -> None:
            live_process(event, ShadowTx(tx, live.tables), position)

    return Shadow()


class ShadowRebuild:
    """One rebuild of one read model: `run()`, or its steps one by one (tests)."""

    def __init__(
        self,
        projection: Projection,
        ledger: AssociationLedger,
        db: ViewDatabase,
        channel: str,
        *,
        batch_size: int = 500,
    ) -> None:
        self.live = projection
        self.shadow = shadow_of(projection)
        self.ledger = ledger
        self.db = db
        self.channel = channel
        self.batch_size = batch_size
        self._runner: ProjectionRunner | None = None
        self._log = log.bind(tenant=ledger.tenant, projection=projection.name)

    def run(self) -> Rebuilt:
        """Build the shadow from zero, catch it up, swap it in. Needs no runner's claim: the
        live runner (here or in another process) keeps serving until the swap."""
        started = time.monotonic()
        with self.db.claim(self.shadow.name, self.channel, threading.Event()) as claim:
            if not claim.held:
                raise RebuildInProgress(f"{self.ledger.tenant}: {self.live.name} is being rebuilt")
            self.start()
            self.catch_up()
            position = self.swap()
        events = self.runner.events_applied
        rebuilt = Rebuilt(self.live.name, events, position, time.monotonic() - started)
        self._log.info(
            "projection_rebuilt", events=events, position=position, seconds=rebuilt.seconds
        )
        return rebuilt

    @property
    def runner(self) -> ProjectionRunner:
        if self._runner is None:
            raise RuntimeError("the rebuild has not started")
        return self._runner

    def start(self) -> None:
        """Drop what an interrupted rebuild left (its shadow is not trusted: started over), and
        create the shadow's tables."""
        with self.db.transaction() as tx:
            self.shadow.drop_tables(tx)
            tx.execute(
                "DELETE FROM {projection_tracking} WHERE projection = :projection",
                {"projection": self.shadow.name},
            )
            self.live.create_tables(tx)  # the swap drops the live tables: they must exist
        self._runner = ProjectionRunner(
            self.shadow, self.ledger, self.db, self.channel, batch_size=self.batch_size
        )
        self._log.info("projection_rebuild_started", shadow=self.shadow.name)

    def catch_up_once(self) -> bool:
        return self.runner.catch_up_once()

    def catch_up(self) -> int:
        """Batches up to the ledger's head, each in its own transaction, while writes go on."""
        return self.runner.catch_up()

    def swap(self) -> int:
        """Swap the shadow in, trying again while readers hold the live tables; returns the
        ledger's head at the swap."""
        for attempt in range(1, SWAP_ATTEMPTS + 1):
            try:
                return self._swap()
            except LockBusy:
                if attempt == SWAP_ATTEMPTS:
                    raise
                self._log.info("projection_swap_deferred", attempt=attempt)
                time.sleep(min(0.05 * attempt, 1.0))
                self.catch_up()  # keep the tail the swap applies under its locks short
        raise AssertionError("unreachable")

    def _swap(self) -> int:
        """In one view transaction: the last events up to the ledger's head into the shadow, the
        shadow in place of the live tables, the live position at that head.

        Why it is safe with a live runner applying a batch concurrently (here or in another
        process): a batch writes the live tracking row first (`Tx.advance`, a compare-and-set)
        and its rows after. The swap takes that row first too (waiting for a batch in flight to
        commit), then the live tables, and reads the head only then. So a batch committed before
        it is covered by that head (the shadow is built from the ledger, not from the live rows;
        the batch's rows go with the dropped tables), and a batch read from an older position
        finds the row moved to the head: TrackingConflict, rolled back whole. One that starts
        from that very head applies what follows it to the new tables, which is right. Both take
        the row before any table, so they cannot deadlock. On SQLite every write transaction is
        BEGIN IMMEDIATE: the swap and a batch run one after the other. Readers see the old tables
        until the commit, then the new ones (on PostgreSQL they wait for the swap, briefly).
        """
        runner, upstream = self.runner, self.ledger.name
        with self.db.transaction() as tx:
            tx.execute(
                "INSERT INTO {projection_tracking} (projection, upstream, notification_id)"
                " VALUES (:projection, :upstream, 0) ON CONFLICT (projection, upstream)"
                " DO UPDATE SET notification_id = {projection_tracking}.notification_id",
                {"projection": self.live.name, "upstream": upstream},
            )  # holds the live row (made if missing) until the commit
            tx.lock_exclusively(self.live.tables, LOCK_WAIT)
            head = self.ledger.recorder.max_notification_id() or 0
            position = tx.position(self.shadow.name, upstream)
            while position < head:
                events, position = runner.next_batch(position, head)
                for notification_id, event in events:
                    self.shadow.process(event, tx, notification_id)
                runner.events_applied += len(events)
            for table in self.live.tables:
                tx.execute(f"DROP TABLE {{{table}}}")
                tx.rename_table(f"{table}{SHADOW}", table)
            tx.execute(
                "UPDATE {projection_tracking} SET notification_id = :head"
                " WHERE projection = :projection AND upstream = :upstream",
                {"head": head, "projection": self.live.name, "upstream": upstream},
            )
            tx.execute(
                "DELETE FROM {projection_tracking} WHERE projection = :projection",
                {"projection": self.shadow.name},
            )
            tx.notify(progress_channel(self.channel), f"{self.live.name} {head}")
        return head
