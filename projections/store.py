"""Where read models live: a view database on SQLite (a file per view) or PostgreSQL (the
tenant's schema), with the tracking position written in the same transaction as the rows.

Views write their SQL once, in the subset both engines share, with `:name` parameters and
`{table}` names that the database qualifies with the tenant's schema. An index is named after
its table, `{table.suffix}` (unqualified: PostgreSQL places an index in its table's schema), so
that a rebuild's shadow copy names its own indexes after the shadow table.
"""

from __future__ import annotations

import contextlib
import fcntl
import re
import sqlite3
import tempfile
import threading
from abc import ABC, abstractmethod
from collections.abc import Iterator, Mapping, Sequence
from functools import lru_cache
from pathlib import Path
from typing import IO, Any, Protocol, Self, TypeVar
from uuid import UUID

import msgspec
import psycopg
from psycopg import sql
from psycopg_pool import PoolTimeout

from projections import listener
from tenants.pool import committed, database_unavailable, rolled_back
from tenants.runtime import StoreLocation

_PARAM = re.compile(r"(?<![:\w]):([a-z_][a-z0-9_]*)")
NAME = re.compile(r"\{([a-z_][a-z0-9_]*)(?:\.([a-z0-9_]+))?\}")
"""`{table}`, or `{table.suffix}` for an index of that table."""

TRACKING_DDL = (
    "CREATE TABLE IF NOT EXISTS {projection_tracking} ("
    " projection TEXT NOT NULL,"
    " upstream TEXT NOT NULL,"
    " notification_id BIGINT NOT NULL,"
    " PRIMARY KEY (projection, upstream))"
)
HALTS_DDL = (
    "CREATE TABLE IF NOT EXISTS {projection_halts} ("
    " projection TEXT NOT NULL,"
    " upstream TEXT NOT NULL,"
    " notification_id BIGINT NOT NULL,"
    " error TEXT NOT NULL,"
    " PRIMARY KEY (projection, upstream))"
)
"""Where a projection stopped at an event it cannot apply, beside its tracking position."""


class LockBusy(Exception):
    """Tables could not be locked in time (readers or writers held them): try again later."""


class TrackingConflict(Exception):
    """The tracking position moved under us (a rebuild, or another runner): nothing was written."""


class Tx(ABC):
    """One open transaction on a view database."""

    @abstractmethod
    def execute(
        self, statement: str, params: Mapping[str, Any] | None = None
    ) -> list[tuple[Any, ...]]:
        """Run one statement; returns its rows (empty for statements without)."""

    @abstractmethod
    def rowcount(self) -> int:
        """Rows changed by the last statement."""

    def notify(self, channel: str, payload: str) -> None:  # noqa: B027 (SQLite: nothing)
        """Tell the listeners of `channel` on commit (PostgreSQL; SQLite has no listeners)."""

    def positions(self, upstream: str) -> dict[str, int]:
        """Every read model's stored position after `upstream`, in one read."""
        rows = self.execute(
            "SELECT projection, notification_id FROM {projection_tracking}"
            " WHERE upstream = :upstream",
            {"upstream": upstream},
        )
        return {str(name): int(position) for name, position in rows}

    def position(self, projection: str, upstream: str) -> int:
        rows = self.execute(
            "SELECT notification_id FROM {projection_tracking}"
            " WHERE projection = :projection AND upstream = :upstream",
            {"projection": projection, "upstream": upstream},
        )
        return int(rows[0][0]) if rows else 0

    def advance(self, projection: str, upstream: str, previous: int, position: int) -> None:
        """Move tracking from `previous` to `position`, or raise TrackingConflict (compare-and-set,
        so a batch applied twice, or after a reset, can never commit)."""
        params = {
            "projection": projection,
            "upstream": upstream,
            "previous": previous,
            "position": position,
        }
        if previous == 0:
            self.execute(
                "INSERT INTO {projection_tracking} (projection, upstream, notification_id)"
                " VALUES (:projection, :upstream, :position) ON CONFLICT DO NOTHING",
                params,
            )
            if self.rowcount() == 1:
                return
            # Not inserted: a row at 0 is still zero (a rebuild's swap of an empty ledger).
        self.execute(
            "UPDATE {projection_tracking} SET notification_id = :position"
            " WHERE projection = :projection AND upstream = :upstream"
            " AND notification_id = :previous",
            params,
        )
        if self.rowcount() != 1:
            raise TrackingConflict(f"{projection}: position is no longer {previous}")

    def halt(self, projection: str, upstream: str) -> tuple[int, str] | None:
        """The event `projection` stopped at, and why, if it did."""
        rows = self.execute(
            "SELECT notification_id, error FROM {projection_halts}"
            " WHERE projection = :projection AND upstream = :upstream",
            {"projection": projection, "upstream": upstream},
        )
        return (int(rows[0][0]), str(rows[0][1])) if rows else None

    def record_halt(self, projection: str, upstream: str, halt: tuple[int, str] | None) -> None:
        """Record where `projection` stopped and why, or (None) that it is running again."""
        keys = {"projection": projection, "upstream": upstream}
        self.execute(
            "DELETE FROM {projection_halts}"
            " WHERE projection = :projection AND upstream = :upstream",
            keys,
        )
        if halt is not None:
            self.execute(
                "INSERT INTO {projection_halts} (projection, upstream, notification_id, error)"
                " VALUES (:projection, :upstream, :position, :error)",
                {**keys, "position": halt[0], "error": halt[1]},
            )

    def copy_stage(self, stage: Stage) -> None:
        """Replace the rows of each table made in `stage` by the stage's (PostgreSQL)."""
        raise NotImplementedError

    # What a rebuild's swap needs beyond the shared SQL (each engine answers its own way).

    def lock_exclusively(self, tables: Sequence[str], timeout: float) -> None:
        """Hold `tables` against every reader and writer until the transaction ends, or raise
        LockBusy after waiting `timeout` seconds."""
        raise NotImplementedError

    def rename_table(self, table: str, new_name: str) -> None:
        """Rename a table, and its indexes named after it (`{table.suffix}`, and on PostgreSQL
        the implicit `<table>_pkey`), so that the old names are all free again."""
        self.execute(f'ALTER TABLE {{{table}}} RENAME TO "{new_name}"')
        for index in self._indexes(new_name):
            if index.startswith(table):
                self._rename_index(index, new_name + index.removeprefix(table))

    def _indexes(self, table: str) -> list[str]:
        raise NotImplementedError

    def _rename_index(self, index: str, new_name: str) -> None:
        raise NotImplementedError


ADVANCE_OR_FAIL = (
    "WITH moved AS (UPDATE {projection_tracking} SET notification_id = :position"
    " WHERE projection = :projection AND upstream = :upstream"
    " AND notification_id = :previous RETURNING 1)"
    " SELECT (CASE WHEN count(*) = 1 THEN '1'"
    " ELSE 'tracking moved: the position is no longer the one read' END)::INTEGER FROM moved"
)
"""The compare-and-set of a pipelined batch: an error, not a row count to wait for, when the
position moved (the CASE depends on the rows, so nothing fails at planning)."""


class Claim(Protocol):
    """A runner's hold on its projection: whether it is the active one, and its wake-ups."""

    held: bool

    @property
    def listener_pid(self) -> int | None: ...

    def wait(self, timeout: float) -> None:
        """Return on the next write to the ledger, on a nudge (the claim's wake event), on
        becoming the holder, or after `timeout` seconds (SQLite; on PostgreSQL the listener
        wakes a holder, so it waits without a timeout and an idle process sends nothing)."""

    def notified_head(self) -> int | None:
        """The last position notified since the claim was made (every write up to it is
        committed), or None when the notifications cannot tell: SQLite has none, and a write
        notified without its position (an older writer) since the last call."""

    def passed(self, applied: int, position: int) -> bool:
        """Whether a loop that applied everything it follows up to `applied` (and has read to
        the ledger's head since it claimed) has passed `position` too, because no write in
        between carried one of its topics: known from the notifications on PostgreSQL (the
        listener, ADR 30), never on SQLite (no notifications)."""


class _FileClaim:
    listener_pid = None

    def __init__(self, handle: IO[str], wake: threading.Event) -> None:
        self._handle = handle
        self._wake = wake
        self.held = False
        self._try()

    def _try(self) -> None:
        try:
            fcntl.flock(self._handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return
        self.held = True

    def passed(self, applied: int, position: int) -> bool:
        return False

    def notified_head(self) -> int | None:
        return None

    def wait(self, timeout: float) -> None:
        # SQLite has no notifications: poll, or wake at once on an in-process nudge.
        self._wake.wait(timeout)
        self._wake.clear()
        if not self.held:
            self._try()


class ViewDatabase(ABC):
    """A tenant's view storage; thread-safe; closed at shutdown."""

    @abstractmethod
    def transaction(self, *, batch: bool = False) -> contextlib.AbstractContextManager[Tx]:
        """A read-write transaction, committed when the block ends without error.

        `batch`: many writes follow (a projection's batch). On PostgreSQL they are sent in
        pipeline mode, without waiting for each one's answer: only a statement that returns
        rows, `rowcount()` and the commit wait. An error in a write is then raised by the next
        of those, not by the write itself (the transaction fails whole either way)."""

    @abstractmethod
    def claim(
        self,
        name: str,
        channel: str,
        wake: threading.Event,
        topics: frozenset[str] | None = None,
    ) -> contextlib.AbstractContextManager[Claim]:
        """Try to become the one active runner of `name`; the claim says whether it is, waits
        for the next write to the ledger that carries one of `topics` (any write if None; or
        `wake` set by a nudge), and on waiting tries again to become it while another holds
        it."""

    @abstractmethod
    def close(self) -> None: ...

    def read(self) -> contextlib.AbstractContextManager[Tx]:
        """A transaction that only reads (on PostgreSQL rolled back: it commits nothing)."""
        return self.transaction()

    def stage(self) -> Stage | None:
        """A new place where a read model built from zero is built before it comes here whole
        (`Stage`; its user closes it), or None where that gains nothing (SQLite: the view is
        already in process)."""
        return None

    def read_rows(
        self, statement: str, params: Mapping[str, Any] | None = None
    ) -> list[tuple[Any, ...]]:
        """The rows of one statement, read in a transaction of its own (rolled back on
        PostgreSQL, where BEGIN, the statement and ROLLBACK go out together: one round trip)."""
        with self.read() as tx:
            return tx.execute(statement, params)

    def ensure_tracking(self) -> None:
        with self.transaction() as tx:
            tx.execute(TRACKING_DDL)
            tx.execute(HALTS_DDL)


class SQLiteTx(Tx):
    def __init__(self, cursor: sqlite3.Cursor) -> None:
        self._cursor = cursor

    def execute(
        self, statement: str, params: Mapping[str, Any] | None = None
    ) -> list[tuple[Any, ...]]:
        query, names = _sqlite_sql(statement)
        given = params or {}
        self._cursor.execute(query, tuple([given[name] for name in names]))
        return self._cursor.fetchall()

    def rowcount(self) -> int:
        return self._cursor.rowcount

    def lock_exclusively(self, tables: Sequence[str], timeout: float) -> None:
        """Nothing to add: every transaction here began IMMEDIATE, holding the file's write lock;
        readers (WAL) go on reading the last committed state."""

    def _indexes(self, table: str) -> list[str]:
        # Implicit indexes (`sqlite_autoindex_<table>_N`, no SQL) follow a renamed table.
        rows = self.execute(
            "SELECT name FROM sqlite_master"
            " WHERE type = 'index' AND tbl_name = :table AND sql IS NOT NULL",
            {"table": table},
        )
        return [str(r[0]) for r in rows]

    def _rename_index(self, index: str, new_name: str) -> None:
        # SQLite cannot rename an index: create it again under the new name from its own SQL.
        (statement,) = self.execute(
            "SELECT sql FROM sqlite_master WHERE type = 'index' AND name = :index",
            {"index": index},
        )[0]
        self._cursor.execute(f'DROP INDEX "{index}"')
        self._cursor.execute(str(statement).replace(f'"{index}"', f'"{new_name}"', 1))


class Stage:
    """A scratch SQLite file in which a read model is built from zero, in process, then copied
    into its PostgreSQL tables in one transaction (`Tx.copy_stage`, with the tracking position).

    Why: built batch by batch on PostgreSQL, every event costs the client a statement or two
    (psycopg's work, the pipeline's bookkeeping) and the server their execution; SQLite runs
    the same statements in process, and the rows then travel once, by COPY. The projections
    are unchanged: their SQL is written in the subset both engines share (a read model runs on
    SQLite as the embedded default). The file is deleted with the stage; its writes are neither
    journaled nor flushed (a crash loses the stage, and the read model is built again from
    zero, as it would be anyway), and its page cache is bounded, so memory does not grow with
    the history."""

    CACHE_KIB = 64 * 1024

    def __init__(self) -> None:
        self._dir = tempfile.TemporaryDirectory(prefix="qcflow-stage-")
        try:
            self._conn = sqlite3.connect(
                Path(self._dir.name) / "stage.sqlite3",
                isolation_level=None,
                check_same_thread=False,
            )
        except BaseException:
            self._dir.cleanup()
            raise
        for pragma in (
            "journal_mode=OFF",
            "synchronous=OFF",
            "locking_mode=EXCLUSIVE",
            f"cache_size=-{self.CACHE_KIB}",
        ):
            self._conn.execute(f"PRAGMA {pragma}")
        self._cursor = self._conn.cursor()
        self._cursor.execute("BEGIN")
        self.tx: Tx = SQLiteTx(self._cursor)
        """Where the projection writes (its tables made here by its own `create_tables`)."""

    def tables(self) -> list[tuple[str, tuple[str, ...]]]:
        """Every table made in the stage, with its columns in order."""
        names = [
            str(row[0])
            for row in self._conn.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table'"
                " AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' ORDER BY name"
            )
        ]
        return [
            (name, tuple(str(c[1]) for c in self._conn.execute(f'PRAGMA table_info("{name}")')))
            for name in names
        ]

    def rows(self, table: str) -> Iterator[tuple[Any, ...]]:
        yield from self._conn.execute(f'SELECT * FROM "{table}"')  # noqa: S608 (the stage's own)

    def close(self) -> None:
        self._conn.close()
        self._dir.cleanup()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()


class SQLiteViewDatabase(ViewDatabase):
    """One SQLite file per view (the embedded default); one connection, used under a lock.

    `derived`: what it holds is derived from the ledger and tracked with it (a read model), so
    a commit is not flushed to the disk (`synchronous=NORMAL`, WAL): a crash of the process
    loses nothing, and a power cut at worst the last batches, which the runner applies again
    from the tracking position stored with them (the file is never left inconsistent). Other
    view databases (the sign-ins and mail, the followers' claims) flush every commit."""

    def __init__(self, path: Path, *, derived: bool = False) -> None:
        self.path = path
        self._lock = threading.RLock()
        self._conn = sqlite3.connect(
            path, isolation_level=None, check_same_thread=False, timeout=10
        )
        self._conn.execute("PRAGMA journal_mode=WAL")
        if derived:
            self._conn.execute("PRAGMA synchronous=NORMAL")
        self.ensure_tracking()

    @contextlib.contextmanager
    def transaction(self, *, batch: bool = False) -> Iterator[Tx]:
        # In-process: a batch has no round trips to save.
        with self._lock:
            cursor = self._conn.cursor()
            cursor.execute("BEGIN IMMEDIATE")
            try:
                yield SQLiteTx(cursor)
            except BaseException:
                cursor.execute("ROLLBACK")
                raise
            cursor.execute("COMMIT")

    @contextlib.contextmanager
    def claim(
        self,
        name: str,
        channel: str,
        wake: threading.Event,
        topics: frozenset[str] | None = None,
    ) -> Iterator[Claim]:
        # An advisory file lock beside the view: released by the OS if the process dies.
        lock_path = self.path.with_name(f"{self.path.name}.{name}.lock")
        with lock_path.open("a") as handle:
            claim = _FileClaim(handle, wake)
            try:
                yield claim
            finally:
                if claim.held:
                    fcntl.flock(handle, fcntl.LOCK_UN)

    def close(self) -> None:
        with self._lock:
            self._conn.close()


class PostgresTx(Tx):
    def __init__(
        self,
        cursor: psycopg.Cursor[Any],
        schema: str,
        pipeline: psycopg.Pipeline | None = None,
    ) -> None:
        self._cursor = cursor
        self._schema = schema
        self._pipeline = pipeline
        self._pending: tuple[str, list[dict[str, Any]]] | None = None
        """In a batch: the last write, not sent yet, and its parameters for each time in a row
        it was made (sent as one `executemany`)."""

    def execute(
        self, statement: str, params: Mapping[str, Any] | None = None
    ) -> list[tuple[Any, ...]]:
        query = _postgres_sql(statement, self._schema)
        if self._pipeline is None:
            self._cursor.execute(query, dict(params or {}))
            return self._cursor.fetchall() if self._cursor.description else []
        if not _returns_rows(statement):
            # A write: its answer is read later. The same write made again in a row (a row per
            # event, per entrant…) goes out with it as one `executemany`.
            if self._pending is not None and self._pending[0] is query:
                self._pending[1].append(dict(params or {}))
            else:
                self.flush()
                self._pending = (query, [dict(params or {})])
            return []
        self.flush()
        # Its own cursor: the shared one may still be handed the answers of writes queued
        # before it. Waits for the answers of everything sent so far.
        with self._cursor.connection.cursor() as reader:
            reader.execute(query, dict(params or {}))
            self._pipeline.sync()
            return reader.fetchall() if reader.description else []

    def advance(self, projection: str, upstream: str, previous: int, position: int) -> None:
        if self._pipeline is None or previous == 0:
            super().advance(projection, upstream, previous, position)
            return
        # In a batch: not waiting for the row count. The statement fails (a text that is no
        # number, made only when no row moved) and the batch with it; the runner then writes it
        # again unpipelined, where the row count names the conflict (`TrackingConflict`).
        self.flush()
        self._cursor.execute(
            _postgres_sql(ADVANCE_OR_FAIL, self._schema),
            {
                "projection": projection,
                "upstream": upstream,
                "previous": previous,
                "position": position,
            },
        )

    def notify(self, channel: str, payload: str) -> None:
        # A command, no rows: in a batch it goes out with the writes, no round trip of its own.
        self.flush()
        self._cursor.execute(
            sql.SQL("NOTIFY {}, {}").format(sql.Identifier(channel), sql.Literal(payload))
        )

    def copy_stage(self, stage: Stage) -> None:
        # Whatever the tables hold at position 0 (nothing, or what `create_tables` put there,
        # which the stage made too) gives way to the stage's rows.
        for table, columns in stage.tables():
            target = sql.Identifier(self._schema, table)
            self._cursor.execute(sql.SQL("DELETE FROM {}").format(target))
            statement = sql.SQL("COPY {} ({}) FROM STDIN").format(
                target, sql.SQL(", ").join(sql.Identifier(c) for c in columns)
            )
            with self._cursor.copy(statement) as copy:
                for row in stage.rows(table):
                    copy.write_row(row)  # psycopg escapes (in C); SQLite's 0/1 reads as a boolean

    def flush(self) -> None:
        """Send the write held back (in a batch), in order after everything sent before it."""
        if self._pending is None:
            return
        query, many = self._pending
        self._pending = None
        if len(many) == 1:
            self._cursor.execute(query, many[0])
        else:
            self._cursor.executemany(query, many)

    def rowcount(self) -> int:
        if self._pipeline is not None:
            self.flush()
            self._pipeline.sync()  # the answers of everything queued, the last one ours
        return self._cursor.rowcount

    def lock_exclusively(self, tables: Sequence[str], timeout: float) -> None:
        # ACCESS EXCLUSIVE, what DROP and ALTER take anyway, for all tables at once and first.
        # Waiting briefly, then giving way: a reader holding one of them while it waits for
        # another (a join, locking in another order) would otherwise deadlock with us.
        names = ", ".join(f"{{{table}}}" for table in tables)
        self._cursor.execute(f"SET LOCAL lock_timeout = '{int(timeout * 1000)}ms'")
        try:
            self.execute(f"LOCK TABLE {names} IN ACCESS EXCLUSIVE MODE")
        except psycopg.errors.LockNotAvailable as e:
            raise LockBusy(str(e)) from e
        self._cursor.execute("SET LOCAL lock_timeout TO DEFAULT")

    def _indexes(self, table: str) -> list[str]:
        rows = self.execute(
            "SELECT indexname FROM pg_indexes WHERE schemaname = :schema AND tablename = :table",
            {"schema": self._schema, "table": table},
        )
        return [str(r[0]) for r in rows]

    def _rename_index(self, index: str, new_name: str) -> None:
        # Renaming a constraint's index (primary key, unique) renames the constraint too.
        self._cursor.execute(
            sql.SQL("ALTER INDEX {} RENAME TO {}").format(
                sql.Identifier(self._schema, index), sql.Identifier(new_name)
            )
        )


class PostgresViewDatabase(ViewDatabase):
    """The tenant's schema on PostgreSQL, through the process's view pool shared by every tenant
    (statements name the schema) and its one listening connection, which holds the advisory
    locks of the claims and wakes each runner on its ledger's notifications (ADR 30).

    `derived`: its transactions write what is derived from the ledger and tracked with it (the
    read models), so they commit without waiting for the WAL's flush (`synchronous_commit` off,
    per transaction), as `SQLiteViewDatabase` does not flush a read model's commits: a crash of
    the server loses at most the last batches, whole (the WAL keeps their order), never a batch
    in part, and each runner applies them again from the tracking position stored with them.
    Other view databases (the sign-ins and mail) wait for the flush as before; so do the ledger's
    appends."""

    def __init__(
        self, conninfo: str, schema: str, pool_size: int = 2, *, derived: bool = False
    ) -> None:
        self.conninfo = conninfo
        self.schema = schema
        self.derived = derived
        self._shared = listener.acquire(conninfo, pool_size)
        self._closed = False
        self._pool = self._shared.pool
        try:
            self.ensure_tracking()
        except BaseException:
            self.close()
            raise

    @property
    def listener(self) -> listener.Listener:
        """The process's listening connection on this database."""
        return self._shared.listener

    @contextlib.contextmanager
    def transaction(self, *, batch: bool = False) -> Iterator[Tx]:
        with self._connection() as conn:
            if not batch:
                with conn.transaction(), conn.cursor() as cursor:
                    self._begun(cursor)
                    yield PostgresTx(cursor, self.schema)
                return
            # A batch's writes in one round trip: BEGIN, the writes and COMMIT go out without
            # waiting for each answer (psycopg's pipeline mode; ADR 26, ADR 30), unless a
            # statement's rows or row count are read on the way.
            with committed(conn) as pipeline, conn.cursor() as cursor:
                self._begun(cursor)  # queued with the BEGIN: no round trip of its own
                tx = PostgresTx(cursor, self.schema, pipeline)
                yield tx
                tx.flush()

    def stage(self) -> Stage:
        return Stage()

    def _begun(self, cursor: psycopg.Cursor[Any]) -> None:
        if self.derived:
            cursor.execute("SET LOCAL synchronous_commit TO OFF")

    @contextlib.contextmanager
    def read(self) -> Iterator[Tx]:
        # Rolled back: a read commits nothing (pg_stat_database counts it as a rollback).
        with self._connection() as conn, rolled_back(conn), conn.cursor() as cursor:
            # In the read's pipeline (`rolled_back`): each statement waits for its rows.
            tx = PostgresTx(cursor, self.schema, conn._pipeline)
            yield tx
            tx.flush()

    def read_rows(
        self, statement: str, params: Mapping[str, Any] | None = None
    ) -> list[tuple[Any, ...]]:
        with self._connection() as conn:
            cursor = conn.cursor()
            try:
                with rolled_back(conn):
                    # Queued with the BEGIN before it and the ROLLBACK after: nothing waits for
                    # its answer until the pipeline ends (`rolled_back`).
                    cursor.execute(_postgres_sql(statement, self.schema), dict(params or {}))
                return cursor.fetchall() if cursor.description else []
            finally:
                cursor.close()

    @contextlib.contextmanager
    def _connection(self) -> Iterator[psycopg.Connection[Any]]:
        # A pool that waited in vain says why (the server's answer), not only that it waited.
        try:
            with self._pool.connection() as conn:
                yield conn
        except PoolTimeout as e:
            raise database_unavailable(self.conninfo, e) from e

    @contextlib.contextmanager
    def claim(
        self,
        name: str,
        channel: str,
        wake: threading.Event,
        topics: frozenset[str] | None = None,
    ) -> Iterator[Claim]:
        hub = self._shared.listener
        claim = hub.claim(f"{self.schema}.{name}", channel, wake, topics)
        try:
            yield claim
        finally:
            hub.release(claim)

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            listener.release(self.conninfo)


_ROWS = re.compile(r"^\s*(SELECT|WITH|VALUES|SHOW|TABLE)\b|\bRETURNING\b", re.I)


@lru_cache(maxsize=512)
def _returns_rows(statement: str) -> bool:
    return _ROWS.search(statement) is not None


@lru_cache(maxsize=512)
def _postgres_sql(statement: str, schema: str) -> str:
    # Rewritten once per statement, not per row: `{table}` names and `:name` parameters.
    return _PARAM.sub(r"%(\1)s", _names(statement, schema))


@lru_cache(maxsize=512)
def _sqlite_sql(statement: str) -> tuple[str, tuple[str, ...]]:
    """The statement for sqlite3, a `?` for each `:name`, and the names in their order: sqlite3
    binds a dict by name dearer than a tuple made from it (5.7 against 4.8 µs for an update with
    six parameters), and a read model built in a stage runs one or two statements an event."""
    named = _names(statement, None)
    return _PARAM.sub("?", named), tuple(m.group(1) for m in _PARAM.finditer(named))


@lru_cache(maxsize=512)
def _names(statement: str, schema: str | None) -> str:
    # `{table}` → "schema"."table" on PostgreSQL, "table" on SQLite; `{table.suffix}` →
    # "table_suffix", an index name, never qualified.
    def qualify(match: re.Match[str]) -> str:
        table, suffix = match.groups()
        if suffix:
            return f'"{table}_{suffix}"'
        return f'"{schema}"."{table}"' if schema else f'"{table}"'

    return NAME.sub(qualify, statement)


def open_view_database(
    location: StoreLocation, view: str, *, derived: bool = False
) -> ViewDatabase:
    """The view database of `view` (`derived`: a read model's, see `SQLiteViewDatabase` and
    `PostgresViewDatabase`)."""
    if location.conninfo is not None and location.schema is not None:
        return PostgresViewDatabase(
            location.conninfo, location.schema, location.pool_size, derived=derived
        )
    return SQLiteViewDatabase(location.sqlite_path(view), derived=derived)


ID_TEXTS_KEPT = 65536
"""How many ids' texts `id_text` remembers (then it forgets them all and starts again)."""
_ID_TEXTS: dict[int, str] = {}


def id_text(value: UUID | str) -> str:
    """`str(value)` for an id, remembered. A read model stores its ids as text, and a rebuild
    turns the same ids (a round's, a submission's, a campaign's) into text event after event:
    `UUID.__str__` is Python, about a microsecond each time, a tenth of a rebuild's work on
    the main thread; this is one dictionary lookup by the id's number. Bounded, so memory does
    not grow with the history; safe between threads (a lost race only makes the text twice).
    An id an event holds as text (an older event's, say) is answered as `str` answers it."""
    try:
        number = value.int  # type: ignore[union-attr]
    except AttributeError:
        return str(value)
    text = _ID_TEXTS.get(number)
    if text is None:
        if len(_ID_TEXTS) >= ID_TEXTS_KEPT:
            _ID_TEXTS.clear()
        text = _ID_TEXTS[number] = str(value)
    return text


R = TypeVar("R", bound=msgspec.Struct)


def select(db: ViewDatabase, kind: type[R], query: str, params: Mapping[str, Any]) -> list[R]:
    """Rows of a query as read-model structs, the columns in the struct's field order."""
    rows = db.read_rows(query, params)
    names = kind.__struct_fields__
    # SQLite answers booleans as 0/1 and decimals are kept as text: convert, not trust the engine.
    return [msgspec.convert(dict(zip(names, row, strict=True)), kind, strict=False) for row in rows]


def equality_filters(
    filters: Mapping[str, str | None], columns: Sequence[str]
) -> tuple[str, dict[str, Any]]:
    """`(:any_c OR c = :c) AND …` over our own column names, and its parameters: a filter left
    out (None) matches every row. PostgreSQL cannot type a bare NULL parameter, hence the flag."""
    params: dict[str, Any] = {}
    for name in columns:
        value = filters.get(name)
        params[f"any_{name}"], params[name] = value is None, value or ""
    where = " AND ".join(f"(:any_{name} OR {name} = :{name})" for name in columns)
    return where, params
