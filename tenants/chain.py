"""Tamper evidence for a tenant's event log: a hash chain written with the events.

Each stored event gets a link, SHA-256 over the previous link and the stored record (its place in
the log, aggregate id, version, topic and the stored bytes), written by the recorder in the same
transaction as the event, under the lock that orders the log. So every event the platform wrote
is on the chain, and an event edited, deleted or inserted in the database afterwards breaks it
where it happened. Checkpoints (the link at a place in the log, and when) are recorded as they are
made, every `CHECKPOINT_EVERY` places and on request; one kept outside the database also catches a
chain recomputed from the start. See ADR 16.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol
from uuid import UUID

from eventsourcing.persistence import StoredEvent

GENESIS = bytes(32)
"""The link before the first event."""
CHECKPOINT_EVERY = 1000
PAGE = 2000
"""Events read per query when the whole chain is verified or adopted."""


def link(
    previous: bytes, position: int, originator_id: UUID, version: int, topic: str, state: bytes
) -> bytes:
    """The next link: every field length-prefixed, so no two records hash alike."""
    digest = hashlib.sha256(previous)
    topic_bytes = topic.encode()
    digest.update(position.to_bytes(8, "big"))
    digest.update(originator_id.bytes)
    digest.update(version.to_bytes(8, "big", signed=True))
    digest.update(len(topic_bytes).to_bytes(4, "big") + topic_bytes)
    digest.update(len(state).to_bytes(8, "big") + state)
    return digest.digest()


@dataclass(frozen=True)
class Checkpoint:
    position: int
    link: str
    """Hex."""
    made_at: datetime
    how: str
    """`interval`, `requested`, or `adopted` (the chain started over a log already there)."""


@dataclass(frozen=True)
class LinkProof:
    """One stored event's place in the log and its link (None when it is not on the chain)."""

    originator_id: str
    version: int
    position: int
    link: str | None


@dataclass(frozen=True)
class Record:
    """A stored event as the chain covers it."""

    position: int
    originator_id: UUID
    version: int
    topic: str
    state: bytes

    @classmethod
    def of_row(cls, row: Any) -> Record:
        """From a row of the events page query."""
        return cls(
            row["position"],
            _uuid(row["originator_id"]),
            row["originator_version"],
            row["topic"],
            bytes(row["state"]),
        )

    def linked_to(self, previous: bytes) -> bytes:
        return link(
            previous, self.position, self.originator_id, self.version, self.topic, self.state
        )


@dataclass(frozen=True)
class ChainStatements:
    """The chain's SQL on one backend: its tables beside the events table."""

    events: str
    chain: str
    checkpoints: str
    position: str
    """The events table's place-in-the-log column."""
    param: str
    blob: str

    def create(self) -> list[str]:
        return [
            f"CREATE TABLE IF NOT EXISTS {self.chain} ("
            f"notification_id BIGINT PRIMARY KEY, link {self.blob} NOT NULL)",
            f"CREATE TABLE IF NOT EXISTS {self.checkpoints} ("
            f"position BIGINT PRIMARY KEY, link {self.blob} NOT NULL, "
            "made_at TEXT NOT NULL, how TEXT NOT NULL)",
        ]

    # Table and column names are ours (fixed per backend), never input.

    @property
    def head(self) -> str:
        return (
            f"SELECT notification_id, link FROM {self.chain} ORDER BY notification_id DESC LIMIT 1"  # noqa: S608
        )

    @property
    def insert_link(self) -> str:
        return (
            f"INSERT INTO {self.chain} (notification_id, link) VALUES ({self.param}, {self.param})"  # noqa: S608
        )

    @property
    def insert_checkpoint(self) -> str:
        p = self.param
        return f"INSERT INTO {self.checkpoints} (position, link, made_at, how) VALUES ({p}, {p}, {p}, {p})"  # noqa: S608

    @property
    def events_page(self) -> str:
        p, at = self.param, self.position
        return (
            f"SELECT {at} AS position, originator_id, originator_version, topic, state"  # noqa: S608
            f" FROM {self.events} WHERE {at} > {p} ORDER BY {at} LIMIT {p}"
        )

    @property
    def links_page(self) -> str:
        p = self.param
        return (
            f"SELECT notification_id AS position, link FROM {self.chain}"  # noqa: S608
            f" WHERE notification_id > {p} ORDER BY notification_id LIMIT {p}"
        )

    @property
    def links_of(self) -> str:
        at = self.position
        return (
            f"SELECT e.{at} AS position, e.originator_version, c.link FROM {self.events} e"  # noqa: S608
            f" LEFT JOIN {self.chain} c ON c.notification_id = e.{at}"
            f" WHERE e.originator_id = {self.param} ORDER BY e.originator_version"
        )

    @property
    def all_checkpoints(self) -> str:
        return f"SELECT position, link, made_at, how FROM {self.checkpoints} ORDER BY position"  # noqa: S608


class Cursor(Protocol):
    def execute(self, statement: Any, params: Any = ..., /) -> Any: ...
    def executemany(self, statement: Any, params: Any, /) -> Any: ...
    def fetchone(self) -> Any: ...
    def fetchall(self) -> Any: ...


class ChainedRecorder:
    """What both backends' recorders add: the links of what they insert, and the chain's reads.
    A subclass sets `chain_statements` and calls `_link_inserted` inside its insert transaction,
    after the events are in (so under the write lock that orders the log)."""

    chain_statements: ChainStatements

    def _transaction(self, *, commit: bool) -> AbstractContextManager[Any]:
        """A transaction on the store, yielding a cursor whose rows read by column name."""
        raise NotImplementedError

    def _lock_log(self, cursor: Cursor) -> None:
        """Hold off other writers of the log for the rest of the transaction."""

    def _link_inserted(
        self, cursor: Cursor, positions: Sequence[int] | None, stored: Sequence[StoredEvent]
    ) -> None:
        if not stored:
            return
        if positions is None or len(positions) != len(stored):
            raise RuntimeError("the recorder must answer each inserted event's place in the log")
        s = self.chain_statements
        cursor.execute(s.head)
        row = cursor.fetchone()
        previous = bytes(row["link"]) if row is not None else GENESIS
        rows = []
        for position, event in zip(positions, stored, strict=True):
            previous = Record(
                position,
                _uuid(event.originator_id),
                event.originator_version,
                event.topic,
                bytes(event.state),
            ).linked_to(previous)
            rows.append((position, previous))
        cursor.executemany(s.insert_link, rows)
        first, last = positions[0], positions[-1]
        if (first - 1) // CHECKPOINT_EVERY != last // CHECKPOINT_EVERY:
            self._checkpoint(cursor, last, previous, "interval")

    def _checkpoint(self, cursor: Cursor, position: int, at_link: bytes, how: str) -> Checkpoint:
        made_at = datetime.now(UTC)
        cursor.execute(
            self.chain_statements.insert_checkpoint,
            (position, at_link, made_at.isoformat(), how),
        )
        return Checkpoint(position, at_link.hex(), made_at, how)

    def record_checkpoint(self) -> Checkpoint | None:
        """A checkpoint at the chain's head now (None for an empty log); the one already there
        when the head has not moved since."""
        with self._transaction(commit=True) as cursor:
            self._lock_log(cursor)
            cursor.execute(self.chain_statements.head)
            head = cursor.fetchone()
            if head is None:
                return None
            known = {c.position: c for c in self._read_checkpoints(cursor)}
            if head["notification_id"] in known:
                return known[head["notification_id"]]
            return self._checkpoint(
                cursor, head["notification_id"], bytes(head["link"]), "requested"
            )

    def _originator(self, originator_id: UUID) -> object:
        """The aggregate id as the events table holds it."""
        return originator_id

    def proof(self, originator_id: UUID) -> list[LinkProof]:
        """Where each stored event of one aggregate sits in the log, and its link there: what an
        audit package carries, to be held against the chain later."""
        with self._transaction(commit=False) as cursor:
            cursor.execute(self.chain_statements.links_of, (self._originator(originator_id),))
            return [
                LinkProof(
                    originator_id=str(originator_id),
                    version=r["originator_version"],
                    position=r["position"],
                    link=bytes(r["link"]).hex() if r["link"] is not None else None,
                )
                for r in cursor.fetchall()
            ]

    def checkpoints(self) -> list[Checkpoint]:
        with self._transaction(commit=False) as cursor:
            return self._read_checkpoints(cursor)

    def _read_checkpoints(self, cursor: Cursor) -> list[Checkpoint]:
        cursor.execute(self.chain_statements.all_checkpoints)
        return [
            Checkpoint(
                r["position"],
                bytes(r["link"]).hex(),
                datetime.fromisoformat(r["made_at"]),
                r["how"],
            )
            for r in cursor.fetchall()
        ]

    def chained_records(self) -> Iterator[Record]:
        """Every stored event in log order, a page per query."""
        return map(Record.of_row, self._pages(self.chain_statements.events_page))

    def links(self) -> Iterator[tuple[int, bytes]]:
        """Every link in log order, a page per query."""
        for r in self._pages(self.chain_statements.links_page):
            yield r["position"], bytes(r["link"])

    def _pages(self, statement: str) -> Iterator[Any]:
        after = 0
        while True:
            with self._transaction(commit=False) as cursor:
                cursor.execute(statement, (after, PAGE))
                rows = cursor.fetchall()
            yield from rows
            if len(rows) < PAGE:
                return
            after = rows[-1]["position"]

    def adopt(self) -> Checkpoint | None:
        """Start the chain over a log written before there was one: link every event there and
        record that as an `adopted` checkpoint. Only for a log with no chain and no checkpoint
        at all; a chain emptied afterwards is tampering, which `verify` reports."""
        with self._transaction(commit=True) as cursor:
            self._lock_log(cursor)
            cursor.execute(self.chain_statements.head)
            if cursor.fetchone() is not None or self._read_checkpoints(cursor):
                return None
            previous, position, after = GENESIS, 0, 0
            s = self.chain_statements
            while True:
                cursor.execute(s.events_page, (after, PAGE))
                rows = cursor.fetchall()
                links = []
                for record in map(Record.of_row, rows):
                    position, previous = record.position, record.linked_to(previous)
                    links.append((position, previous))
                if links:
                    cursor.executemany(s.insert_link, links)
                if len(rows) < PAGE:
                    break
                after = position
            if position == 0:
                return None
            return self._checkpoint(cursor, position, previous, "adopted")


def _uuid(value: UUID | str) -> UUID:
    return value if isinstance(value, UUID) else UUID(value)


def chain_of(recorder: object) -> ChainedRecorder:
    if not isinstance(recorder, ChainedRecorder):
        raise TypeError("the tenant's recorder keeps no hash chain")
    return recorder
