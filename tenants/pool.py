"""One pool of PostgreSQL connections per process for every tenant's ledger (ADR 30).

The library gives each application (each tenant's ledger) its own pool, so connections grew
with the tenants (~16 a tenant). Its statements name the schema in full (`"t_saq".…`), so any
connection serves any tenant: `SharedPoolFactory` (the persistence module named in each ledger's
environment) puts one pool, shared by every ledger of the same server and database, in place of
each ledger's own, counted: the last ledger closed closes it.

Reads do not commit: the library reads in autocommit (each a committed transaction, a commit
counted for every poll of the head). Here a read runs in a transaction that rolls back; only
`transaction(commit=True)`, what every write takes, commits.
"""

from __future__ import annotations

import threading
from collections import namedtuple
from collections.abc import Iterator
from contextlib import contextmanager
from functools import partial
from typing import Any

import psycopg
from eventsourcing import persistence
from eventsourcing.postgres import PostgresAggregateRecorder, PostgresDatastore, PostgresFactory
from psycopg import Connection, Cursor
from psycopg.conninfo import conninfo_to_dict, make_conninfo
from psycopg.pq import TransactionStatus
from psycopg.rows import DictRow
from psycopg.types.composite import CompositeInfo, register_composite
from psycopg_pool import PoolTimeout

_reading = threading.local()
_lock = threading.Lock()
_pools: dict[tuple[str, ...], tuple[Any, int]] = {}


def _shared_pool(key: tuple[str, ...], make: Any) -> Any:
    """The process's pool for `key` (made from `make`, a configured but unopened pool, the
    first time), one more user counted."""
    with _lock:
        pool, users = _pools.get(key, (make, 0))
        if users == 0:
            pool = make
            pool.open()
        _pools[key] = (pool, users + 1)
        return pool


def _release(key: tuple[str, ...]) -> None:
    with _lock:
        pool, users = _pools.get(key, (None, 0))
        if pool is None:
            return
        if users <= 1:
            del _pools[key]
            pool.close()
        else:
            _pools[key] = (pool, users - 1)


def shared_pools() -> int:
    """How many shared ledger pools this process holds open (tests)."""
    return len(_pools)


class TenantDatastore(PostgresDatastore):
    """The library's datastore on the shared pool, whose reads (see `ReadsRollBack`) roll back
    instead of committing, and which leaves the shared pool open when one ledger closes."""

    shared_key: tuple[str, ...] = ()

    def register_type_adapters(self) -> None:
        # The library's composite types, registered with a Python type of this schema's own:
        # left to psycopg, every schema's `stored_event_uuid` would share one class (named
        # after the type), and on a shared connection the last registered schema would win.
        names = [n for n in self.db_type_names if n not in self.psycopg_type_adapters]
        if not names:
            return
        with self.get_connection() as conn:
            for name in names:
                info = CompositeInfo.fetch(conn, f"{self.schema}.{name}")
                if info is None:
                    continue
                factory = namedtuple(f"{self.schema}_{name}", info.field_names)  # type: ignore[misc]
                register_composite(info, conn, factory)
                self.psycopg_type_adapters[name] = info
                self.psycopg_python_types[name] = factory

    @contextmanager
    def get_connection(self) -> Iterator[Connection[DictRow]]:
        # The library's, but registering its types with this schema's own Python types, and
        # a read (`ReadsRollBack`) in a transaction of its own that rolls back (`_ReadAlone`).
        try:
            self.pool.open(self.pool_open_timeout is not None, self.pool_open_timeout or 30.0)
            with self.pool.connection() as conn:
                for name, info in self.psycopg_type_adapters.items():
                    if not conn.adapters.types.get(info.oid):
                        register_composite(info, conn, self.psycopg_python_types[name])
                if getattr(_reading, "active", False):
                    yield _ReadAlone(conn)  # type: ignore[misc]
                else:
                    yield conn
        except PoolTimeout as e:
            raise database_unavailable(pool_conninfo(self.pool), e) from e
        except psycopg.Error as e:
            raise _persistence_error(e) from e

    def close(self) -> None:
        key, self.shared_key = self.shared_key, ()
        if key:
            _release(key)


@contextmanager
def rolled_back(conn: Connection[Any]) -> Iterator[None]:
    """A transaction that only reads, on `conn` (autocommit or not, idle): rolled back at the
    end, so that it commits nothing (pg_stat_database counts a rollback).

    Two round trips, not three: the BEGIN goes out with the first statement and the ROLLBACK
    with the end of the pipeline (psycopg's pipeline mode; a statement whose rows are fetched
    waits for its answer as usual). The BEGIN and ROLLBACK are queued as psycopg queues its own
    commands in a pipeline, not executed as statements: psycopg, seeing a ROLLBACK statement,
    forgets every statement it has prepared on the connection and sends DEALLOCATE ALL (itself
    a committed transaction), which on a pool shared by reads and writes would undo the
    prepared statements all the time. What a read prepares outlives its rollback in PostgreSQL
    (prepared statements are not transactional), so psycopg's cache stays true. A read that
    failed is rolled back directly, after the pipeline."""
    if conn.info.transaction_status != TransactionStatus.IDLE or conn._pipeline is not None:
        yield  # already inside a transaction (or a pipeline): part of it
        return
    with _pipelined(conn) as pipeline:
        try:
            yield
        finally:
            _queue(conn, pipeline, b"ROLLBACK")


class _ReadAlone:
    """A connection lent to one of the library's reads (`ReadsRollBack`): each statement in a
    transaction of its own, rolled back, whose BEGIN, statement and ROLLBACK go out together and
    are answered together, one round trip; the rows are read after (as `projections.store`
    `read_rows`). The library's reads run one statement and read its rows; they use nothing of
    the connection but a cursor (anything else fails here rather than running outside a
    transaction).

    A command's loads each go alone too: they once shared one rolled-back transaction on one
    connection (`reads_together`), a round trip per statement and one more to end it before the
    write; alone, a load is one round trip and nothing is left to end (ADR 0031, stop 23). Each
    statement sees what is committed when it runs either way (READ COMMITTED)."""

    def __init__(self, conn: Connection[Any]) -> None:
        self._conn = conn

    def cursor(self, **kwargs: Any) -> _ReadAloneCursor:
        return _ReadAloneCursor(self._conn, **kwargs)


class _ReadAloneCursor:
    def __init__(self, conn: Connection[Any], **kwargs: Any) -> None:
        self._conn = conn
        # Rows come in binary: an event's state (bytea) as it is, where text would double it
        # in hex for the server to write and the client to read back; every other column the
        # library reads (ids, versions, topics, positions) loads as the same Python value.
        kwargs.setdefault("binary", True)
        self._cursor: Cursor[Any] = conn.cursor(**kwargs)

    def __enter__(self) -> _ReadAloneCursor:
        return self

    def __exit__(self, *_: object) -> None:
        self._cursor.close()

    def execute(self, query: Any, params: Any = None, *, prepare: bool | None = None) -> Any:
        with rolled_back(self._conn):  # queued; answered when the pipeline ends, with its rows
            self._cursor.execute(query, params, prepare=prepare)
        return self

    def fetchall(self) -> list[Any]:
        return self._cursor.fetchall()

    def fetchone(self) -> Any:
        return self._cursor.fetchone()


@contextmanager
def committed(conn: Connection[Any]) -> Iterator[Any]:
    """A transaction on `conn` (idle) whose BEGIN, statements and COMMIT go out in one pipeline:
    one round trip for writes whose answers are not read on the way (psycopg's own transaction
    in a pipeline waits once more, at its BEGIN). Yields the pipeline. An error raised in the
    block or by a statement (reported when the answers come) rolls it back."""
    with _pipelined(conn) as pipeline:
        try:
            yield pipeline
        except BaseException:
            _queue(conn, pipeline, b"ROLLBACK")
            raise
        _queue(conn, pipeline, b"COMMIT")


@contextmanager
def _pipelined(conn: Connection[Any]) -> Iterator[Any]:
    """A pipeline on `conn` (idle) that starts with a queued BEGIN; the caller queues how the
    transaction ends (`rolled_back`, `committed`). On leaving, a transaction left open by a
    failed statement (the pipeline skipped the queued end) is rolled back and the connection's
    autocommit restored, and the statements psycopg prepared forgotten (`_forget_prepared`);
    an error is the failed statement's (`_statement_error`)."""
    autocommit = conn.autocommit
    conn.autocommit = True  # the BEGIN is ours: psycopg must not add its own
    try:
        with _statement_error(), conn.pipeline() as pipeline:
            _queue(conn, pipeline, b"BEGIN")
            yield pipeline
    finally:
        if conn.info.transaction_status != TransactionStatus.IDLE and not conn.closed:
            conn.pgconn.exec_(b"ROLLBACK")  # a statement failed: the pipeline skipped the rest
            _forget_prepared(conn)
        if not conn.closed:
            conn.autocommit = autocommit


def _forget_prepared(conn: Connection[Any]) -> None:
    """After a statement failed in a pipeline: forget every statement psycopg prepared on `conn`,
    in its cache and on the server, as psycopg's own rollback does. psycopg (3.3.9) counts a
    statement as prepared when it queues the statement's Parse in a pipeline and, for a
    statement it had seen before, never reads that Parse's answer; the server skips every Parse
    after the failed statement, so the statement's next use failed with `prepared statement
    "_pg3_N" does not exist` (a runner's batch rewritten after a rebuild's swap; CI saw it)."""
    if conn._prepared.clear():
        conn._prepared._to_flush.clear()  # sent here, not before the next statement's Parse
        conn.pgconn.exec_(b"DEALLOCATE ALL")


@contextmanager
def _statement_error() -> Iterator[None]:
    """The error of the statement that failed in a pipeline, whenever its answer came. When the
    answers after it (the queued ROLLBACK or COMMIT, skipped) are read at the pipeline's end,
    psycopg raises "pipeline aborted" in place of the statement's error, which it keeps only as
    the context; which one a caller saw depended on how the answers arrived. A caller needs the
    statement's (a duplicate key is a concurrent write, a missing table a bug)."""
    try:
        yield
    except psycopg.errors.PipelineAborted as aborted:
        cause = aborted.__context__
        if isinstance(cause, psycopg.Error) and not isinstance(
            cause, psycopg.errors.PipelineAborted
        ):
            raise cause from None
        raise


def _queue(conn: Connection[Any], pipeline: Any, command: bytes) -> None:
    """`command` into the pipeline, as psycopg queues its own (`_exec_command`): checked for an
    error when its answer comes, not seen by the prepared statements' cache."""
    pipeline.command_queue.append(partial(conn.pgconn.send_query_params, command, None))
    pipeline.result_queue.append(None)


@contextmanager
def reading() -> Iterator[None]:
    """The connections a datastore lends within are lent for a read alone (`_ReadAlone`)."""
    was = getattr(_reading, "active", False)
    _reading.active = True
    try:
        yield
    finally:
        _reading.active = was


class ReadsRollBack:
    """A recorder mixin: the library's reads, which run in autocommit (each one a committed
    transaction: a commit for every look at the head), run in a transaction rolled back."""

    def select_events(self, *args: Any, **kwargs: Any) -> Any:
        with reading():
            return super().select_events(*args, **kwargs)  # type: ignore[misc]

    def select_notifications(self, *args: Any, **kwargs: Any) -> Any:
        with reading():
            return super().select_notifications(*args, **kwargs)  # type: ignore[misc]

    def max_notification_id(self) -> int | None:
        with reading():
            return super().max_notification_id()  # type: ignore[misc,no-any-return]

    def max_tracking_id(self, application_name: str) -> int | None:
        with reading():
            return super().max_tracking_id(application_name)  # type: ignore[misc,no-any-return]


class SnapshotRecorder(ReadsRollBack, PostgresAggregateRecorder):
    """The library's recorder of snapshots, reading without committing."""


class SharedPoolFactory(PostgresFactory):
    """The library's PostgreSQL persistence, with one pool per process and database shared by
    every tenant's ledger (sized by the first: `POSTGRES_POOL_SIZE`, `POSTGRES_MAX_OVERFLOW`)."""

    aggregate_recorder_class = SnapshotRecorder

    def __init__(self, env: Any) -> None:
        super().__init__(env)
        datastore: Any = self.datastore
        own = datastore.pool  # configured, never opened: no connection made
        kwargs = own.kwargs
        key = tuple(str(kwargs.get(k, "")) for k in ("host", "port", "dbname", "user"))
        datastore.__class__ = TenantDatastore  # adds behaviour only, no state of its own
        datastore.pool = _shared_pool(key, own)
        datastore.shared_key = key


_ERRORS: tuple[tuple[type[psycopg.Error], type[persistence.PersistenceError]], ...] = (
    (psycopg.InterfaceError, persistence.InterfaceError),
    (psycopg.OperationalError, persistence.OperationalError),
    (psycopg.DataError, persistence.DataError),
    (psycopg.IntegrityError, persistence.IntegrityError),
    (psycopg.InternalError, persistence.InternalError),
    (psycopg.ProgrammingError, persistence.ProgrammingError),
    (psycopg.NotSupportedError, persistence.NotSupportedError),
    (psycopg.DatabaseError, persistence.DatabaseError),
)


def _persistence_error(error: psycopg.Error) -> persistence.PersistenceError:
    """The library's error for a psycopg error (as its own datastore maps them)."""
    kind = next((ours for theirs, ours in _ERRORS if isinstance(error, theirs)), None)
    return (kind or persistence.PersistenceError)(str(error))


class DatabaseUnavailable(persistence.OperationalError):
    """The platform got no connection to its PostgreSQL: the message names the server and why
    (a refused connection, the server's or the role's connection limit, a busy pool)."""


def database_unavailable(conninfo: str, error: BaseException) -> DatabaseUnavailable:
    """What to tell the operator when a connection could not be had. A refused connection says
    why; a pool that timed out says only that it waited, so one connection is tried here,
    directly (while this process still holds its own), to learn the cause."""
    if isinstance(error, DatabaseUnavailable):
        return error
    params = conninfo_to_dict(conninfo)
    where = (
        f"{params.get('host', 'localhost')}:{params.get('port', '5432')}/{params.get('dbname', '')}"
    )
    if isinstance(error, PoolTimeout):
        try:
            with psycopg.connect(conninfo, connect_timeout=5):
                cause = (
                    "the server takes connections, but every connection of this process's pools"
                    " was busy for the whole wait (raise QCFLOW_PG_POOL_SIZE, or look for long"
                    " transactions)"
                )
        except psycopg.Error as e:
            cause = _reason(e)
    else:
        cause = _reason(error)
    if "too many" in cause:
        cause += (
            " — PostgreSQL's max_connections (or the role's CONNECTION LIMIT) is taken by"
            " other clients; a qcflow process holds 2 × QCFLOW_PG_POOL_SIZE + 1"
            " connections (ADR 30)"
        )
    waited = f" ({error})" if isinstance(error, PoolTimeout) else ""
    return DatabaseUnavailable(f"no connection to PostgreSQL at {where}{waited}: {cause}")


def pool_conninfo(pool: Any) -> str:
    """Where a pool connects (the library's pools carry it in their keyword arguments)."""
    keys = ("host", "port", "dbname", "user", "password")
    return make_conninfo(pool.conninfo, **{k: v for k, v in pool.kwargs.items() if k in keys})


def _reason(error: BaseException) -> str:
    # psycopg's message ends with the server's (`FATAL:  too many connections for role …`).
    lines = str(error).strip().splitlines() or [type(error).__name__]
    return lines[-1].split("FATAL:")[-1].strip()
