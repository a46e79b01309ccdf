"""PostgreSQL specifics of the tenant stores: provisioning the schemas, the NOTIFY channel, the
hash chain written with the events."""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Iterable, Iterator, Sequence
from contextlib import AbstractContextManager
from typing import Any

import psycopg
from eventsourcing.persistence import (
    InterfaceError,
    Notification,
    OperationalError,
    ProgrammingError,
    StoredEvent,
)
from eventsourcing.postgres import PostgresDatastore, PostgresProcessRecorder
from eventsourcing.utils import retry
from psycopg import sql
from psycopg.rows import tuple_row

from tenants import chain
from tenants.chain import GENESIS, ChainedRecorder, ChainStatements
from tenants.pool import ReadsRollBack, committed, reading


class TenantChannelRecorder(ReadsRollBack, ChainedRecorder, PostgresProcessRecorder):
    """The library's process recorder (events, and the tracking rows of what a forwarding
    process has followed, in one transaction), notifying on a channel named after the schema,
    and linking each event it inserts into the tenant's hash chain in the same transaction.

    The library names the channel after the unqualified table, so every tenant's writes would
    wake every tenant's listeners; one channel per schema wakes only the tenant's own.
    """

    def __init__(
        self,
        datastore: PostgresDatastore,
        *,
        events_table_name: str = "stored_events",
        tracking_table_name: str = "notification_tracking",
    ):
        super().__init__(
            datastore, events_table_name=events_table_name, tracking_table_name=tracking_table_name
        )
        self.channel_name = channel_name(datastore.schema, events_table_name)
        self.events_table = (
            f'"{datastore.schema}"."{events_table_name}"' if datastore.schema else events_table_name
        )
        schema = f'"{datastore.schema}".' if datastore.schema else ""
        prefix = events_table_name.removesuffix("_events")
        self.chain_statements = ChainStatements(
            events=f"{schema}{events_table_name}",
            chain=f"{schema}{prefix}_chain",
            checkpoints=f"{schema}{prefix}_chain_checkpoints",
            position="notification_id",
            param="%s",
            blob="BYTEA",
        )
        self.sql_create_statements.extend(
            sql.SQL(s).format() for s in self.chain_statements.create()
        )
        # The chain's step as an aggregate, so that one statement links what it inserts.
        step = sql.Identifier(datastore.schema, f"{prefix}_chain_step")
        links = sql.Identifier(datastore.schema, f"{prefix}_chain_links")
        self.sql_create_statements.extend(
            [
                sql.SQL(
                    "CREATE OR REPLACE FUNCTION {}(previous BYTEA, head BYTEA, record BYTEA)"
                    " RETURNS BYTEA LANGUAGE sql IMMUTABLE PARALLEL SAFE"
                    " AS $$ SELECT sha256(coalesce(previous, head) || record) $$"
                ).format(step),
                sql.SQL(
                    "CREATE OR REPLACE AGGREGATE {}(BYTEA, BYTEA) (SFUNC = {}, STYPE = BYTEA)"
                ).format(links, step),
            ]
        )
        uuid_bytes = (
            "uuid_send(i.originator_id)"
            if datastore.originator_id_type == "uuid"
            else "uuid_send(i.originator_id::uuid)"
        )
        # What `chain.link` hashes after the previous link, field by field, in SQL (int8send
        # and int4send write big-endian, as `int.to_bytes(…, "big")`).
        record = (
            f"int8send(i.notification_id) || {uuid_bytes} || int8send(i.originator_version)"
            " || int4send(octet_length(convert_to(i.topic, 'UTF8')))"
            " || convert_to(i.topic, 'UTF8') || int8send(octet_length(i.state)::BIGINT)"
            " || i.state"
        )
        self._rendered: tuple[bytes, ...] | None = None
        c = self.chain_statements
        # The library's insert, its rows given as one array per column, not as one array of a
        # composite type: psycopg writes a composite's array as text, an event's state in hex
        # and quoted twice over, in Python (a third of an append's client time for a 5 kB
        # draft); an array of `bytea` goes in binary, as it is.
        insert = sql.SQL(
            "INSERT INTO {events} AS t (originator_id, originator_version, topic, state)"
            " SELECT * FROM unnest(%s::{id_type}[], %s::BIGINT[], %s::TEXT[], %s::BYTEA[])"
            " RETURNING notification_id"
        ).format(
            events=sql.SQL(self.events_table),
            id_type=sql.SQL("UUID" if datastore.originator_id_type == "uuid" else "TEXT"),
        )
        self.insert_chained_statement = sql.SQL(
            "WITH inserted AS ({insert}, originator_id, originator_version, topic, state),"
            " head AS (SELECT coalesce((SELECT link FROM {chain} ORDER BY notification_id DESC"
            " LIMIT 1), %s::BYTEA) AS link),"
            " linked AS (SELECT i.notification_id,"
            " {links}(h.link, {record}) OVER (ORDER BY i.notification_id) AS link"
            " FROM inserted i CROSS JOIN head h),"
            " written AS (INSERT INTO {chain} (notification_id, link)"
            " SELECT notification_id, link FROM linked RETURNING notification_id, link),"
            " checkpoint AS (INSERT INTO {checkpoints} (position, link, made_at, how)"
            " SELECT notification_id, link, to_char(clock_timestamp() AT TIME ZONE 'UTC',"
            " 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"+00:00\"'), 'interval'"
            " FROM (SELECT notification_id, link, min(notification_id) OVER () AS first,"
            " max(notification_id) OVER () AS last FROM written) AS w"
            " WHERE notification_id = last AND (first - 1) / %s <> last / %s)"
            " SELECT notification_id FROM linked ORDER BY notification_id"
        ).format(
            insert=insert,
            chain=sql.SQL(c.chain),
            checkpoints=sql.SQL(c.checkpoints),
            links=links,
            record=sql.SQL(record),
        )

    def _write_statements(self, conn: psycopg.Connection[Any]) -> tuple[bytes, ...]:
        """What a write sends after the tracking (lock timeout, lock, notify, insert), rendered
        once: psycopg renders a composed statement again on every execute (a quarter of an
        append's time on the client)."""
        if self._rendered is None:
            # After the insert: its payload names the write's last position (the sequence's
            # value in this session) and its topics (issue 22 §1; `projections.listener`).
            notify = sql.SQL(
                "SELECT pg_notify({}, currval(pg_get_serial_sequence({}, 'notification_id'))::text"
                " || %s)"
            ).format(sql.Literal(self.channel_name), sql.Literal(self.events_table))
            set_timeout, lock = self.lock_table_statements
            self._rendered = tuple(
                _render(s, conn) for s in (set_timeout, lock, notify, self.insert_chained_statement)
            )
        return self._rendered

    @retry((InterfaceError, OperationalError), max_attempts=10, wait=0.2)
    def select_notifications(
        self,
        start: int | None,
        limit: int,
        stop: int | None = None,
        topics: Sequence[str] = (),
        *,
        inclusive_of_start: bool = True,
    ) -> Sequence[Notification]:
        """The library's read of the log (the same rows, order and retries), each row read as a
        tuple and made a `Notification` without the frozen dataclass's `__init__`: a read
        model's catch-up reads the whole history this way, and the library's dict per row and
        checked init were half of the client's work in that read (the rest is psycopg's)."""
        where: list[str] = []
        params: list[object] = []
        if start is not None:
            where.append("notification_id >= %s" if inclusive_of_start else "notification_id > %s")
            params.append(start)
        if stop is not None:
            where.append("notification_id <= %s")
            params.append(stop)
        if topics:
            where.append("topic = ANY(%s)")
            params.append(list(topics))
        statement = _select_notifications(self.events_table, " AND ".join(where))
        with (
            reading(),
            self.datastore.get_connection() as conn,
            conn.cursor(row_factory=tuple_row) as curs,  # binary, as every read lent (`_ReadAlone`)
        ):
            curs.execute(statement, (*params, limit), prepare=True)
            return [_notification(*row) for row in curs.fetchall()]

    def _transaction(self, *, commit: bool) -> AbstractContextManager[Any]:
        return self.datastore.transaction(commit=commit)

    def _lock_log(self, cursor: Any) -> None:
        self._lock_table(cursor)

    @retry((InterfaceError, OperationalError), max_attempts=10, wait=0.2)
    def insert_events(
        self, stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> Sequence[int] | None:
        """The library's write (tracking, table lock, notify, insert, in one transaction), with
        the chain's links made by the insert's own statement: its head read there, under the
        lock, and each link hashed by the server. Everything goes out in one pipeline and waits
        once, at the commit: one round trip, where the library's insert and a separate read of
        the head took three (ADR 26). The lock still orders the log (tailing readers miss
        nothing) and the links are those `chain.link` computes (verify checks them)."""
        with self.datastore.get_connection() as conn, conn.cursor() as curs:
            with committed(conn):  # BEGIN, the statements and COMMIT in one pipeline
                self._insert_events(curs, stored_events, **kwargs)  # tracking, if any
                if not stored_events:
                    return None
                set_timeout, lock, notify, insert = self._write_statements(conn)
                curs.execute(set_timeout, prepare=True)
                curs.execute(lock, prepare=True)
                curs.execute(
                    insert,
                    (
                        [e.originator_id for e in stored_events],
                        [e.originator_version for e in stored_events],
                        [e.topic for e in stored_events],
                        [e.state for e in stored_events],
                        GENESIS,
                        chain.CHECKPOINT_EVERY,
                        chain.CHECKPOINT_EVERY,
                    ),
                    prepare=True,
                )
                topics = notify_payload(e.topic for e in stored_events)
                conn.cursor().execute(notify, (topics,), prepare=True)  # not `curs`: its rows
            # Committed (the pipeline waited for every answer): the insert's is the last.
            positions = [int(row["notification_id"]) for row in curs.fetchall()]
        if len(positions) != len(stored_events):
            msg = f"inserted {len(stored_events)} events, answered {len(positions)} places"
            raise ProgrammingError(msg)
        return positions


@functools.lru_cache(maxsize=64)
def _select_notifications(table: str, where: str) -> bytes:
    condition = f" WHERE {where}" if where else ""
    columns = "notification_id, originator_id, originator_version, topic, state"
    statement = f"SELECT {columns} FROM {table}{condition} ORDER BY notification_id LIMIT %s"  # noqa: S608 (our table and clauses)
    return statement.encode()


_new = object.__new__
_set = object.__setattr__


def _notification(
    position: int, originator_id: Any, version: int, topic: str, state: bytes
) -> Notification:
    notification = _new(Notification)
    _set(
        notification,
        "__dict__",
        {
            "originator_id": originator_id,
            "originator_version": version,
            "topic": topic,
            "state": state,
            "id": position,
        },
    )
    return notification


def _render(statement: object, conn: psycopg.Connection[Any]) -> bytes:
    if isinstance(statement, sql.Composable):
        return statement.as_bytes(conn)
    if isinstance(statement, bytes):
        return statement
    if isinstance(statement, str):
        return statement.encode()
    raise TypeError(f"not a statement: {statement!r}")


def notify_payload(topics: Iterable[str]) -> str:
    """The part of a write's NOTIFY payload after its last position: the batch's topics, so that
    the listener wakes only the loops that follow one of them (issue 22 §1). Empty (every loop
    wakes) when they would not fit in a payload."""
    text = ",".join(sorted(set(topics)))
    return f" {text}" if text and len(text) < PAYLOAD_LIMIT else ""


PAYLOAD_LIMIT = 7000
"""PostgreSQL refuses a NOTIFY payload of 8000 bytes or more."""


def parse_payload(payload: str) -> tuple[int | None, frozenset[str] | None]:
    """`"<last position> <topic>,<topic>…"`: the write's last position and its topics. Without
    topics (or an empty payload, as older writers send) the write concerns every loop."""
    head, _, rest = payload.partition(" ")
    try:
        position: int | None = int(head)
    except ValueError:
        return None, None
    return position, frozenset(rest.split(",")) if rest else None


def channel_name(schema: str, events_table_name: str) -> str:
    return f"{schema}_{events_table_name}"


STARTUP_LOCK = "qcflow.startup"
"""Names the advisory lock that serialises start-up DDL across processes (one per database)."""


@contextlib.contextmanager
def startup_lock(conninfo: str | None) -> Iterator[None]:
    """Hold the database's start-up lock for the block: schema creation and every `CREATE … IF
    NOT EXISTS` of the library, the chain and the read models run one process at a time.

    Why: PostgreSQL's `IF NOT EXISTS` is not safe against a concurrent creator (two processes
    creating the same schema, table or composite type fail on a duplicate key in the catalogue,
    or with `tuple concurrently updated`). A session-level advisory lock on its own connection
    waits for the other process's start-up, whatever transactions that runs; the lock goes with
    the connection if the process dies. Nothing to do on SQLite (one file, written under its
    own lock). Not re-entrant: nest it only with a different `conninfo`.
    """
    if conninfo is None:
        yield
        return
    with psycopg.connect(conninfo, autocommit=True) as conn:
        conn.execute("SELECT pg_advisory_lock(hashtextextended(%s, 0))", (STARTUP_LOCK,))
        try:
            yield
        finally:
            with contextlib.suppress(psycopg.Error):
                conn.execute("SELECT pg_advisory_unlock(hashtextextended(%s, 0))", (STARTUP_LOCK,))


def provision_schemas(conninfo: str, schemas: Iterable[str]) -> None:
    """Create each tenant's schema if missing (the library requires it to exist)."""
    with psycopg.connect(conninfo, autocommit=True) as conn:
        for schema in schemas:
            conn.execute(sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(sql.Identifier(schema)))
