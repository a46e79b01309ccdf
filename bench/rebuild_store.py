"""How the rebuild benchmark's data set reaches the tenant schemas: the real ledger commands run
on a ledger that keeps its aggregates in memory (no per-event save) and hands every event,
encoded by the ledger's own mapper (our msgspec transcoder), to a log that bulk-loads it with
COPY in notification order."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable
from typing import Any
from uuid import UUID

import psycopg
from eventsourcing.domain import Aggregate, DomainEventProtocol
from eventsourcing.persistence import IntegrityError, StoredEvent, Tracking
from eventsourcing.utils import get_topic
from psycopg import sql

from aggregates.ledger.application import AssociationLedger
from api.demo.season import SimulatedTime
from tenants.transcoder import MsgspecTranscoder

COPY_ROWS = 5_000
"""Events per COPY (and per transaction): what the log holds in memory at most."""
CONNECT_ATTEMPTS = 30
"""A shared server may be full ("too many clients"): wait and try again, this many times."""
Follower = Callable[[int, StoredEvent], None]


def connect(conninfo: str, **kwargs: Any) -> psycopg.Connection[Any]:
    for attempt in range(CONNECT_ATTEMPTS):
        try:
            return psycopg.connect(conninfo, **kwargs)
        except psycopg.OperationalError as e:
            if "too many clients" not in str(e) or attempt == CONNECT_ATTEMPTS - 1:
                raise
            time.sleep(2)
    raise AssertionError("unreachable")


class EventLog:
    """One tenant's events table being filled: notification ids given in order from 1, rows
    copied in chunks; counts per topic kept for the checks."""

    def __init__(self, conn: psycopg.Connection[Any], schema: str) -> None:
        self.conn = conn
        self.schema = schema
        self.table = sql.Identifier(schema, f"{AssociationLedger.name}_events")
        self.rows: list[tuple[int, UUID, int, str, bytes]] = []
        self.head = 0
        self.topics: Counter[str] = Counter()
        self.tracking: dict[str, int] = {}
        """Per upstream tenant: the last of its notifications recorded here (single-row)."""

    def append(self, stored: StoredEvent) -> int:
        self.head += 1
        self.rows.append(
            (self.head, stored.originator_id, stored.originator_version, stored.topic, stored.state)
        )
        self.topics[stored.topic] += 1
        if len(self.rows) >= COPY_ROWS:
            self.flush()
        return self.head

    def flush(self) -> None:
        if not self.rows:
            return
        statement = sql.SQL(
            "COPY {} (notification_id, originator_id, originator_version, topic, state)"
            " FROM STDIN (FORMAT BINARY)"
        ).format(self.table)
        with self.conn.transaction(), self.conn.cursor() as cur, cur.copy(statement) as copy:
            copy.set_types(["bigint", "uuid", "bigint", "text", "bytea"])
            for row in self.rows:
                copy.write_row(row)
        self.rows.clear()

    def finish(self) -> None:
        """Flush, then move the id sequence past the last id, so later writes continue."""
        self.flush()
        with self.conn.transaction():
            self.conn.execute(
                "SELECT setval(pg_get_serial_sequence(%s, 'notification_id'), %s)",
                (f'"{self.schema}"."{AssociationLedger.name}_events"', max(self.head, 1)),
            )


def ledger_env(tenant: str) -> dict[str, str]:
    """An in-memory ledger with the production transcoder (what the mapper encodes with)."""
    return {
        "LEDGER_TENANT": tenant,
        "LEDGER_PERSISTENCE_MODULE": "eventsourcing.popo",
        "LEDGER_TRANSCODER_TOPIC": get_topic(MsgspecTranscoder),
    }


class SimulatedLedger(AssociationLedger):
    """The tenant's ledger with its real commands, whose repository is the live aggregates and
    whose saves append to an EventLog. A created aggregate whose id exists already is refused
    with the store's IntegrityError, as PostgreSQL would refuse it."""

    name = AssociationLedger.name  # the library would name a subclass after itself

    def __init__(self, tenant: str, log: EventLog, clock: SimulatedTime) -> None:
        super().__init__(ledger_env(tenant))
        self.clock = clock
        self.events = log
        self.live: dict[UUID, Aggregate] = {}
        self.followers: list[tuple[frozenset[str], Follower]] = []
        """(topics, call): run after each save, like a forwarding follower of this log."""

    def _find(self, aggregate_id: UUID, kind: type[Any], version: int | None = None) -> Any:
        found = self.live.get(aggregate_id)
        return found if isinstance(found, kind) else None

    def save(self, *objs: Any, **kwargs: Any) -> list[Any]:
        saved: list[tuple[int, StoredEvent]] = []
        batches = [(a, a.collect_events()) for a in objs if isinstance(a, Aggregate)]
        for aggregate, events in batches:
            existing = self.live.get(aggregate.id)
            if events and events[0].originator_version == 1 and existing not in (None, aggregate):
                raise IntegrityError(f"{aggregate.id} exists already")
        for aggregate, events in batches:
            self.live[aggregate.id] = aggregate
            for event in events:
                stored = self.mapper.to_stored_event(event)
                saved.append((self.events.append(stored), stored))
        for position, stored in saved:
            for topics, follow in self.followers:
                if stored.topic in topics:
                    follow(position, stored)
        return []

    def save_tracked(self, tracking: Tracking, *aggregates: Aggregate) -> int | None:
        self.save(*aggregates)
        self.events.tracking[tracking.application_name] = tracking.notification_id
        return None

    def decode(self, stored: StoredEvent) -> DomainEventProtocol[UUID]:
        return self.mapper.to_domain_event(stored)

    def forget(self, keep: tuple[type[Aggregate], ...]) -> None:
        """Drop the aggregates of a finished season (memory stays bounded), keeping `keep`."""
        self.live = {k: a for k, a in self.live.items() if isinstance(a, keep)}
