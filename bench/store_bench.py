"""Event-store benchmark: our ledger and projection runner against the library and raw psycopg."""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import secrets
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from functools import singledispatchmethod
from typing import Any
from uuid import UUID

import psycopg
import structlog
from eventsourcing.dispatch import singledispatchmethod as lib_singledispatchmethod
from eventsourcing.domain import Aggregate, DomainEvent, event
from eventsourcing.persistence import StoredEvent, Tracking
from eventsourcing.postgres import PostgresDatastore, PostgresTrackingRecorder
from eventsourcing.projection import Projection as LibProjection
from eventsourcing.projection import ProjectionRunner as LibProjectionRunner
from eventsourcing.utils import get_topic
from psycopg import sql
from psycopg.conninfo import make_conninfo

from aggregates.application import AssociationLedger
from projections.runner import Projection, ProjectionRunner
from projections.store import PostgresViewDatabase, Tx
from tenants.postgres import provision_schemas
from tenants.runtime import StoreLocation

PAYLOAD = ("qcflow bench payload, " * 25)[:500]
PAGE = 500
WARMUP_OPS = 10
MAX_OPS_PER_THREAD = 2_000_000
POLL_S = 0.01
Op = Callable[[], None]


class BenchItem(Aggregate):
    """Benchmark-only aggregate: each new one is one event of ~500 bytes."""

    class Created(Aggregate.Created):
        payload: str

    @event(Created)
    def __init__(self, payload: str) -> None:
        self.payload = payload


CREATED_TOPIC = get_topic(BenchItem.Created)


class BenchProjection(Projection):
    """Ours: one row per event, applied in batches by projections.runner.ProjectionRunner."""

    name = "bench_ours"
    topics = (CREATED_TOPIC,)
    tables = ("bench_ours",)

    def create_tables(self, tx: Tx) -> None:
        tx.execute(
            "CREATE TABLE IF NOT EXISTS {bench_ours} ("
            " position BIGINT PRIMARY KEY, item_id TEXT NOT NULL, size INTEGER NOT NULL)"
        )

    @singledispatchmethod
    def process(self, event: DomainEvent, tx: Tx, position: int) -> None:
        """Events of no interest change nothing."""

    @process.register
    def _created(self, event: BenchItem.Created, tx: Tx, position: int) -> None:
        tx.execute(
            "INSERT INTO {bench_ours} (position, item_id, size) VALUES (:position, :item, :size)",
            {"position": position, "item": str(event.originator_id), "size": len(event.payload)},
        )


class LibBenchView(PostgresTrackingRecorder):
    """The library's way: the same row and the tracking record in one view transaction."""

    def __init__(self, datastore: PostgresDatastore, **kwargs: Any) -> None:
        super().__init__(datastore, **kwargs)
        table = sql.SQL("{}.{}").format(
            sql.Identifier(datastore.schema), sql.Identifier("bench_lib")
        )
        self.sql_create_statements.append(
            sql.SQL(
                "CREATE TABLE IF NOT EXISTS {} ("
                " position BIGINT PRIMARY KEY, item_id TEXT NOT NULL, size INTEGER NOT NULL)"
            ).format(table)
        )
        self.insert_row = sql.SQL("INSERT INTO {} VALUES (%s, %s, %s)").format(table)

    def item_created(self, item_id: UUID, size: int, tracking: Tracking) -> None:
        with self.datastore.transaction(commit=True) as curs:
            self._insert_tracking(curs, tracking)
            params = (tracking.notification_id, str(item_id), size)
            curs.execute(self.insert_row, params, prepare=True)


class LibBenchProjection(LibProjection[LibBenchView]):
    name = "bench_lib"
    topics = (CREATED_TOPIC,)

    @lib_singledispatchmethod
    def process_event(self, domain_event: Any, tracking: Tracking) -> None:
        self.view.insert_tracking(tracking)

    @process_event.register
    def _created(self, domain_event: BenchItem.Created, tracking: Tracking) -> None:
        self.view.item_created(domain_event.originator_id, len(domain_event.payload), tracking)


@dataclass
class Point:
    events: int
    seconds: float
    rate: float
    p50_ms: float | None = None
    p99_ms: float | None = None

    def cell(self) -> str:
        if self.p50_ms is None or self.p99_ms is None:
            return f"{self.rate:>9,.0f}"
        return f"{self.rate:>7,.0f} ({self.p50_ms:4.1f}/{self.p99_ms:5.1f})"


def ratio(a: Point, b: Point) -> float:
    return a.rate / b.rate if b.rate else float("nan")


def measure(
    threads: int, seconds: float, open_op: Callable[[], contextlib.AbstractContextManager[Op]]
) -> Point:
    """Run `threads` threads calling their op for `seconds` after a warm-up; one op = one event."""
    started: list[float] = []
    barrier = threading.Barrier(
        threads + 1, action=lambda: started.append(time.perf_counter()), timeout=120
    )
    latencies: list[list[float]] = [[] for _ in range(threads)]
    ends = [0.0] * threads
    errors: list[BaseException] = []

    def work(i: int) -> None:
        try:
            with open_op() as op:
                for _ in range(WARMUP_OPS):
                    op()
                barrier.wait()
                deadline, mine = started[0] + seconds, latencies[i]
                for _ in range(MAX_OPS_PER_THREAD):
                    t = time.perf_counter()
                    if t >= deadline:
                        break
                    op()
                    mine.append(time.perf_counter() - t)
                ends[i] = time.perf_counter()
        except BaseException as e:
            errors.append(e)
            barrier.abort()

    workers = [threading.Thread(target=work, args=(i,), daemon=True) for i in range(threads)]
    for w in workers:
        w.start()
    with contextlib.suppress(threading.BrokenBarrierError):
        barrier.wait()
    for w in workers:
        w.join(seconds + 180)
    if errors or any(w.is_alive() for w in workers):
        raise errors[0] if errors else TimeoutError("a writer thread did not finish")
    merged = sorted(x for lat in latencies for x in lat)
    elapsed = max(ends) - started[0]
    return Point(
        events=len(merged),
        seconds=elapsed,
        rate=len(merged) / elapsed,
        p50_ms=merged[len(merged) // 2] * 1000,
        p99_ms=merged[min(len(merged) - 1, int(len(merged) * 0.99))] * 1000,
    )


def checkpoint(conninfo: str) -> None:
    """Start every point from clean shared buffers (as pgbench runs were); needs superuser."""
    with contextlib.suppress(psycopg.Error), psycopg.connect(conninfo, autocommit=True) as conn:
        conn.execute("CHECKPOINT")


def create_raw_table(conninfo: str, name: str) -> sql.Composable:
    """A table shaped as the library's events table (PK and unique notification_id index)."""
    table = sql.SQL("raw.{}").format(sql.Identifier(name))
    with psycopg.connect(conninfo, autocommit=True) as conn:
        conn.execute("CREATE SCHEMA IF NOT EXISTS raw")
        conn.execute(
            sql.SQL(
                "CREATE TABLE {} (originator_id uuid NOT NULL, originator_version bigint NOT NULL,"
                " topic text, state bytea, notification_id bigserial,"
                " PRIMARY KEY (originator_id, originator_version))"
            ).format(table)
        )
        conn.execute(sql.SQL("CREATE UNIQUE INDEX ON {} (notification_id)").format(table))
    return table


@contextlib.contextmanager
def raw_writer(conninfo: str, name: str, stored: StoredEvent, locked: bool) -> Iterator[Op]:
    """One connection; each op is one transaction inserting one row (new originator id)."""
    table = sql.SQL("raw.{}").format(sql.Identifier(name))
    prepared = [
        sql.SQL("SET LOCAL lock_timeout = '5s'"),
        sql.SQL("LOCK TABLE {} IN EXCLUSIVE MODE").format(table),
    ]
    notify = sql.SQL("NOTIFY {}").format(sql.Identifier(f"raw_{name}"))
    insert = sql.SQL(
        "INSERT INTO {} (originator_id, originator_version, topic, state)"
        " VALUES (%s, 1, %s, %s) RETURNING notification_id"
    ).format(table)
    with psycopg.connect(conninfo, autocommit=True) as conn, conn.cursor() as cur:

        def op() -> None:
            with conn.transaction():
                if locked:
                    for statement in prepared:
                        cur.execute(statement, prepare=True)
                    cur.execute(notify)  # not preparable, as in the library
                cur.execute(insert, (uuid.uuid4(), stored.topic, stored.state), prepare=True)
                cur.fetchone()

        yield op


def append_point(conninfo: str, threads: int, seconds: float) -> dict[str, Any]:
    location = StoreLocation(f"w{threads}", conninfo=conninfo, schema=f"t_w{threads}")
    provision_schemas(conninfo, [location.schema or ""])
    ledger = AssociationLedger(location.ledger_env(pool_size=threads))
    try:
        stored = ledger.mapper.to_stored_event(BenchItem(PAYLOAD).collect_events()[0])

        def save() -> None:
            ledger.save(BenchItem(PAYLOAD))

        checkpoint(conninfo)
        ours = measure(threads, seconds, lambda: contextlib.nullcontext(save))
    finally:
        ledger.close()
    points = {"ours": ours, "state_bytes": len(stored.state)}
    for variant, locked in (("raw_locked", True), ("raw_unlocked", False)):
        name = f"{variant}_{threads}"
        create_raw_table(conninfo, name)
        checkpoint(conninfo)
        points[variant] = measure(
            threads, seconds, lambda n=name, lk=locked: raw_writer(conninfo, n, stored, lk)
        )
    return points


def timed_pages(events: int, read_page: Callable[[int], tuple[int, int]]) -> Point:
    """Page over the log from the start; `read_page(last)` returns (rows read, new last)."""
    start, last, seen = time.perf_counter(), 0, 0
    for _ in range(events // PAGE + 2):
        count, last = read_page(last)
        seen += count
        if count < PAGE:
            break
    elapsed = time.perf_counter() - start
    return Point(events=seen, seconds=elapsed, rate=seen / elapsed)


def catch_up_points(conninfo: str, events: int, timeout: float) -> dict[str, Any]:
    location = StoreLocation("cu", conninfo=conninfo, schema="t_cu")
    schema = location.schema or ""
    provision_schemas(conninfo, [schema])
    env = location.ledger_env(pool_size=4)
    with contextlib.ExitStack() as stack:
        ledger = AssociationLedger(env)
        stack.callback(ledger.close)
        start, written = time.perf_counter(), 0
        while written < events:
            batch = min(PAGE, events - written)
            ledger.save(*(BenchItem(PAYLOAD) for _ in range(batch)))
            written += batch
        write = Point(events=written, seconds=time.perf_counter() - start, rate=0.0)
        write.rate = written / write.seconds
        head = ledger.recorder.max_notification_id() or 0
        checkpoint(conninfo)

        # Raw baseline: pages of the same rows, no decoding.
        conn = stack.enter_context(psycopg.connect(conninfo, autocommit=True))
        page = sql.SQL(
            "SELECT notification_id, topic, state FROM {}.ledger_events"
            " WHERE notification_id > %s ORDER BY notification_id LIMIT %s"
        ).format(sql.Identifier(schema))

        def raw_page(last: int) -> tuple[int, int]:
            rows = conn.execute(page, (last, PAGE), prepare=True).fetchall()
            return len(rows), int(rows[-1][0]) if rows else last

        raw = timed_pages(events, raw_page)

        # Read + decode through the library (goal G6), no view writes.
        def decode_page(last: int) -> tuple[int, int]:
            found = ledger.recorder.select_notifications(last, PAGE, inclusive_of_start=False)
            for notification in found:
                ledger.mapper.to_domain_event(notification)
            return len(found), found[-1].id if found else last

        decode = timed_pages(events, decode_page)

        # Ours: batches of 500 events and their tracking per view transaction.
        db = PostgresViewDatabase(conninfo, schema)
        stack.callback(db.close)
        runner = ProjectionRunner(BenchProjection(), ledger, db, location.ledger_channel)
        start = time.perf_counter()
        position = runner.catch_up()
        ours = Point(events=written, seconds=time.perf_counter() - start, rate=0.0)
        ours.rate = written / ours.seconds
        with db.transaction() as tx:
            ours_rows = int(tx.execute("SELECT count(*) FROM {bench_ours}")[0][0])

        # The library's runner builds its own ledger; the view's keys carry the projection's name.
        prefix = f"{LibBenchProjection.name.upper()}_"
        view_keys = ("PERSISTENCE_MODULE", "POSTGRES_")
        lib_env = dict(env) | {
            prefix + key.removeprefix("LEDGER_"): value
            for key, value in env.items()
            if key.removeprefix("LEDGER_").startswith(view_keys)
        }
        library, lib_rows = run_library_runner(lib_env, head, written, timeout)
    if ours_rows != written or lib_rows != written or position != head:
        msg = f"rows: ours {ours_rows}, library {lib_rows}, expected {written}; position {position}"
        raise RuntimeError(msg)
    return {
        "write": write,
        "raw_select": raw,
        "select_decode": decode,
        "ours": ours,
        "library": library,
    }


def run_library_runner(
    env: dict[str, str], head: int, events: int, timeout: float
) -> tuple[Point, int]:
    """Start the library's runner and poll its view's tracking until it reaches `head`."""
    with LibProjectionRunner(
        application_class=AssociationLedger,
        projection_class=LibBenchProjection,
        view_class=LibBenchView,
        env=env,
    ) as runner:
        # Its processing thread starts as the constructor's last step: time from here.
        start = time.perf_counter()
        for _ in range(int(timeout / POLL_S) + 1):
            if (runner.view.max_tracking_id(runner.app_name) or 0) >= head:
                break
            runner.run_forever(timeout=POLL_S)  # re-raises the processing thread's error
            if runner.is_interrupted.is_set():
                raise RuntimeError("the library's projection runner stopped")
        else:
            raise TimeoutError(f"library runner did not reach {head} in {timeout} s")
        elapsed = time.perf_counter() - start
        with runner.view.datastore.transaction(commit=False) as curs:
            schema = sql.Identifier(runner.view.datastore.schema)
            curs.execute(sql.SQL("SELECT count(*) AS n FROM {}.bench_lib").format(schema))
            row = curs.fetchone()
    return Point(events=events, seconds=elapsed, rate=events / elapsed), int(row["n"] if row else 0)


def print_summary(appends: dict[int, dict[str, Any]], catch_up: dict[str, Point]) -> None:
    print("\n=== Append, one event per save: events/s (p50/p99 ms per save) ===")
    print(
        f"{'threads':>7} | {'ours':^23} | {'raw lock+notify':^23} | {'raw unlocked':^23}"
        " | ours/locked | ours/unlocked"
    )
    for threads, p in appends.items():
        ours, locked, unlocked = p["ours"], p["raw_locked"], p["raw_unlocked"]
        print(
            f"{threads:>7} | {ours.cell():>23} | {locked.cell():>23} | {unlocked.cell():>23}"
            f" | {ratio(ours, locked):>11.2f} | {ratio(ours, unlocked):>13.2f}"
        )
    n = catch_up["ours"].events
    print(f"\n=== Catch-up of {n:,} events (written at {catch_up['write'].rate:,.0f} ev/s) ===")
    labels = {
        "ours": "ours: ProjectionRunner.catch_up (batch 500)",
        "library": "library: ProjectionRunner (1 event/tx)",
        "raw_select": "raw: SELECT pages of 500, no decode",
        "select_decode": "library select_notifications + decode",
    }
    for key, label in labels.items():
        point = catch_up[key]
        print(f"{label:<44} {point.rate:>10,.0f} ev/s  ({point.seconds:.2f} s)")
    ours = catch_up["ours"]
    print(
        f"ours/library = {ratio(ours, catch_up['library']):.2f}   "
        f"ours/raw-select = {ratio(ours, catch_up['raw_select']):.3f}   "
        f"decode/raw-select (G6) = {ratio(catch_up['select_decode'], catch_up['raw_select']):.3f}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--database-url", default="postgresql://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--seconds", type=float, default=5.0, help="per append point")
    parser.add_argument("--events", type=int, default=20_000, help="events to catch up on")
    parser.add_argument("--threads", default="1,4,8", help="writer thread counts")
    parser.add_argument("--timeout", type=float, default=300.0, help="library runner limit (s)")
    parser.add_argument("--json", metavar="PATH", help="also write every figure as JSON")
    args = parser.parse_args()
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))
    thread_counts = [int(t) for t in args.threads.split(",")]

    dbname = f"qcflow_bench_{secrets.token_hex(4)}"
    admin = make_conninfo(args.database_url)
    conninfo = make_conninfo(args.database_url, dbname=dbname)
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(dbname)))
        server = str(conn.execute("SHOW server_version").fetchone()[0])  # type: ignore[index]
    print(f"database {dbname} on PostgreSQL {server}")
    try:
        appends: dict[int, dict[str, Any]] = {}
        for threads in thread_counts:
            appends[threads] = p = append_point(conninfo, threads, args.seconds)
            print(
                f"append, {threads} thread(s): ours {p['ours'].cell()}, raw lock+notify "
                f"{p['raw_locked'].cell()}, raw unlocked {p['raw_unlocked'].cell()}",
                flush=True,
            )
        catch_up = catch_up_points(conninfo, args.events, args.timeout)
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(dbname))
            )
        print(f"dropped database {dbname}")
    print_summary(appends, catch_up)
    if args.json:
        figures = {
            "server_version": server,
            "settings": {"seconds": args.seconds, "events": args.events, "threads": thread_counts},
            "append": {
                str(t): {k: asdict(v) if isinstance(v, Point) else v for k, v in p.items()}
                for t, p in appends.items()
            },
            "catch_up": {k: asdict(v) for k, v in catch_up.items()},
        }
        with open(args.json, "w", encoding="utf-8") as out:
            json.dump(figures, out, indent=2)


if __name__ == "__main__":
    main()
