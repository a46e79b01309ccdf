"""Event-store benchmark: our ledger and projection runner against the library and raw psycopg."""

from __future__ import annotations

import argparse
import contextlib
import functools
import json
import logging
import secrets
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from typing import Any
from uuid import UUID

import psycopg
import structlog
from eventsourcing.dispatch import singledispatchmethod as lib_singledispatchmethod
from eventsourcing.domain import Aggregate, DomainEventProtocol, event
from eventsourcing.persistence import StoredEvent, Tracking
from eventsourcing.postgres import PostgresDatastore, PostgresTrackingRecorder
from eventsourcing.projection import Projection as LibProjection
from eventsourcing.projection import ProjectionRunner as LibProjectionRunner
from eventsourcing.utils import get_topic
from psycopg import sql
from psycopg.conninfo import make_conninfo

from aggregates.ledger.application import AssociationLedger
from projections.runner import Projection, ProjectionRunner
from projections.store import PostgresViewDatabase, Tx
from tenants.postgres import provision_schemas
from tenants.runtime import StoreLocation

PAYLOAD = ("qcflow bench payload, " * 25)[:500]
PAGE = 500
WARMUP_OPS = 10
MAX_OPS_PER_THREAD = 2_000_000
POLL_S = 0.01
ROW_DDL = "(position BIGINT PRIMARY KEY, item_id TEXT NOT NULL, size INTEGER NOT NULL)"
Op = Callable[[], None]


class BenchItem(Aggregate):
    """Benchmark-only aggregate: creating one is one event with 500 bytes of payload."""

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
        tx.execute("CREATE TABLE IF NOT EXISTS {bench_ours} " + ROW_DDL)

    @functools.singledispatchmethod
    def process(self, event: DomainEventProtocol[UUID], tx: Tx, position: int) -> None:
        """Events of no interest change nothing."""

    @process.register
    def _created(self, event: BenchItem.Created, tx: Tx, position: int) -> None:
        tx.execute(
            "INSERT INTO {bench_ours} (position, item_id, size) VALUES (:position, :item, :size)",
            {"position": position, "item": str(event.originator_id), "size": len(event.payload)},
        )


class LibBenchView(PostgresTrackingRecorder):
    """The library's way (notes §7): the same row and the tracking in one view transaction."""

    def __init__(self, datastore: PostgresDatastore, **kwargs: Any) -> None:
        super().__init__(datastore, **kwargs)
        self.table = sql.SQL("{}.bench_lib").format(sql.Identifier(datastore.schema))
        create = sql.SQL("CREATE TABLE IF NOT EXISTS {} " + ROW_DDL).format(self.table)
        self.sql_create_statements.append(create)

    def item_created(self, item_id: UUID, size: int, tracking: Tracking) -> None:
        insert = sql.SQL("INSERT INTO {} VALUES (%s, %s, %s)").format(self.table)
        with self.datastore.transaction(commit=True) as curs:
            self._insert_tracking(curs, tracking)
            curs.execute(insert, (tracking.notification_id, str(item_id), size), prepare=True)


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

    @classmethod
    def of(cls, events: int, seconds: float, latencies: list[float] | None = None) -> Point:
        point = cls(events, seconds, events / seconds if seconds > 0 else 0.0)
        if latencies:
            ordered = sorted(latencies)
            point.p50_ms = ordered[len(ordered) // 2] * 1000
            point.p99_ms = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] * 1000
        return point

    def cell(self) -> str:
        return f"{self.rate:>7,.0f} ({self.p50_ms or 0:4.1f}/{self.p99_ms or 0:5.1f})"


def ratio(a: Point, b: Point) -> float:
    return a.rate / b.rate if b.rate else float("nan")


def measure(
    threads: int, seconds: float, open_op: Callable[[], contextlib.AbstractContextManager[Op]]
) -> Point:
    """`threads` threads call their op (one event each) for `seconds`, after a warm-up."""
    started: list[float] = []
    barrier = threading.Barrier(threads + 1, lambda: started.append(time.perf_counter()), 120)
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
    merged = [x for lat in latencies for x in lat]
    return Point.of(len(merged), max(ends) - started[0], merged)


def checkpoint(conninfo: str) -> None:
    """Start each point with clean shared buffers, as the pgbench runs did (needs superuser)."""
    with contextlib.suppress(psycopg.Error), psycopg.connect(conninfo, autocommit=True) as conn:
        conn.execute("CHECKPOINT")


@contextlib.contextmanager
def raw_writer(conninfo: str, table: str, stored: StoredEvent, locked: bool) -> Iterator[Op]:
    """Own connection; one op = one transaction inserting the row under a new originator id."""
    name = sql.SQL("raw.{}").format(sql.Identifier(table))
    lock: list[sql.SQL | sql.Composed] = [
        sql.SQL("SET LOCAL lock_timeout = '5s'"),
        sql.SQL("LOCK TABLE {} IN EXCLUSIVE MODE").format(name),
    ]
    notify = sql.SQL("NOTIFY {}").format(sql.Identifier(f"raw_{table}"))
    insert = sql.SQL(
        "INSERT INTO {} (originator_id, originator_version, topic, state)"
        " VALUES (%s, 1, %s, %s) RETURNING notification_id"
    ).format(name)
    with psycopg.connect(conninfo, autocommit=True) as conn, conn.cursor() as cur:

        def op() -> None:
            with conn.transaction():
                if locked:
                    for statement in lock:
                        cur.execute(statement, prepare=True)
                    cur.execute(notify)  # not prepared, as in the library
                cur.execute(insert, (uuid.uuid4(), stored.topic, stored.state), prepare=True)
                cur.fetchone()

        yield op


def append_point(conninfo: str, threads: int, seconds: float) -> tuple[dict[str, Point], int]:
    location = StoreLocation(f"w{threads}", conninfo=conninfo, schema=f"t_w{threads}")
    provision_schemas(conninfo, [f"t_w{threads}", "raw"])
    ledger = AssociationLedger(location.ledger_env(pool_size=threads))
    try:
        stored = ledger.mapper.to_stored_event(BenchItem(PAYLOAD).collect_events()[0])

        def save() -> None:
            ledger.save(BenchItem(PAYLOAD))

        checkpoint(conninfo)
        points = {"ours": measure(threads, seconds, lambda: contextlib.nullcontext(save))}
    finally:
        ledger.close()
    for variant, locked in (("raw_locked", True), ("raw_unlocked", False)):
        table = f"{variant}_{threads}"
        name = sql.SQL("raw.{}").format(sql.Identifier(table))
        with psycopg.connect(conninfo, autocommit=True) as conn:  # the library table's shape
            conn.execute(
                sql.SQL(
                    "CREATE TABLE {} (originator_id uuid NOT NULL, originator_version bigint"
                    " NOT NULL, topic text, state bytea, notification_id bigserial,"
                    " PRIMARY KEY (originator_id, originator_version))"
                ).format(name)
            )
            conn.execute(sql.SQL("CREATE UNIQUE INDEX ON {} (notification_id)").format(name))
        checkpoint(conninfo)
        opener = functools.partial(raw_writer, conninfo, table, stored, locked)
        points[variant] = measure(threads, seconds, opener)
    return points, len(stored.state)


def timed_pages(events: int, read_page: Callable[[int], tuple[int, int]]) -> Point:
    """Page over the log from its start; `read_page(last)` returns (rows read, new last)."""
    start, last, seen = time.perf_counter(), 0, 0
    for _ in range(events // PAGE + 2):
        count, last = read_page(last)
        seen += count
        if count < PAGE:
            break
    return Point.of(seen, time.perf_counter() - start)


def catch_up_points(conninfo: str, events: int, timeout: float) -> dict[str, Point]:
    location = StoreLocation("cu", conninfo=conninfo, schema="t_cu")
    provision_schemas(conninfo, ["t_cu"])
    env = location.ledger_env(pool_size=4)
    with contextlib.ExitStack() as stack:
        ledger = AssociationLedger(env)
        stack.callback(ledger.close)
        start, written = time.perf_counter(), 0
        while written < events:
            batch = min(PAGE, events - written)
            ledger.save(*(BenchItem(PAYLOAD) for _ in range(batch)))
            written += batch
        points = {"write": Point.of(written, time.perf_counter() - start)}
        head = ledger.recorder.max_notification_id() or 0
        checkpoint(conninfo)

        conn = stack.enter_context(psycopg.connect(conninfo, autocommit=True))
        page = sql.SQL(
            "SELECT notification_id, topic, state FROM t_cu.ledger_events"
            " WHERE notification_id > %s ORDER BY notification_id LIMIT %s"
        )

        def raw_page(last: int) -> tuple[int, int]:
            rows = conn.execute(page, (last, PAGE), prepare=True).fetchall()
            return len(rows), int(rows[-1][0]) if rows else last

        def decode_page(last: int) -> tuple[int, int]:  # the library's read + decode (G6)
            found = ledger.recorder.select_notifications(last, PAGE, inclusive_of_start=False)
            for notification in found:
                ledger.mapper.to_domain_event(notification)
            return len(found), found[-1].id if found else last

        points["raw_select"] = timed_pages(events, raw_page)
        points["select_decode"] = timed_pages(events, decode_page)

        db = PostgresViewDatabase(conninfo, "t_cu")
        stack.callback(db.close)
        runner = ProjectionRunner(BenchProjection(), ledger, db, location.ledger_channel)
        start = time.perf_counter()
        position = runner.catch_up()
        points["ours"] = Point.of(written, time.perf_counter() - start)
        with db.transaction() as tx:
            ours_rows = int(tx.execute("SELECT count(*) FROM {bench_ours}")[0][0])

    # The library's runner builds its own ledger from `env` (keys LEDGER_*); its view reads
    # keys prefixed with the projection's name, so copy the persistence keys under that prefix.
    prefix = f"{LibBenchProjection.name.upper()}_"
    lib_env = env | {
        prefix + key.removeprefix("LEDGER_"): value
        for key, value in env.items()
        if key.removeprefix("LEDGER_").startswith(("PERSISTENCE_MODULE", "POSTGRES_"))
    }
    points["library"], lib_rows = run_library_runner(lib_env, head, written, timeout)
    if ours_rows != written or lib_rows != written or position != head:
        msg = f"rows: ours {ours_rows}, library {lib_rows}, expected {written}; at {position}"
        raise RuntimeError(msg)
    return points


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
        start = time.perf_counter()  # its processing thread starts as the constructor ends
        for _ in range(int(timeout / POLL_S) + 1):
            if (runner.view.max_tracking_id(runner.app_name) or 0) >= head:
                break
            runner.run_forever(timeout=POLL_S)  # re-raises the processing thread's error
            if runner.is_interrupted.is_set():
                raise RuntimeError("the library's projection runner stopped")
        else:
            raise TimeoutError(f"the library's runner did not reach {head} in {timeout} s")
        elapsed = time.perf_counter() - start
        with runner.view.datastore.transaction(commit=False) as curs:
            curs.execute(sql.SQL("SELECT count(*) AS n FROM {}").format(runner.view.table))
            row = curs.fetchone()
        runner.view.datastore.close()
    return Point.of(events, elapsed), int(row["n"]) if row else 0


def print_summary(appends: dict[int, dict[str, Point]], catch_up: dict[str, Point]) -> None:
    print("\n=== Append, one event per save: events/s (p50/p99 ms per save) ===")
    heads = " | ".join(f"{h:^23}" for h in ("ours", "raw lock+notify", "raw unlocked"))
    print(f"threads | {heads} | ours/locked | ours/unlocked")
    for threads, p in appends.items():
        cells = " | ".join(f"{p[k].cell():>23}" for k in ("ours", "raw_locked", "raw_unlocked"))
        print(
            f"{threads:>7} | {cells} | {ratio(p['ours'], p['raw_locked']):>11.2f}"
            f" | {ratio(p['ours'], p['raw_unlocked']):>13.2f}"
        )
    ours, write = catch_up["ours"], catch_up["write"]
    print(f"\n=== Catch-up of {ours.events:,} events (written at {write.rate:,.0f} ev/s) ===")
    for key, label in (
        ("ours", "ours: ProjectionRunner.catch_up (batch 500)"),
        ("library", "library: ProjectionRunner (1 event/tx)"),
        ("raw_select", "raw: SELECT pages of 500, no decode"),
        ("select_decode", "library select_notifications + decode"),
    ):
        point = catch_up[key]
        print(f"{label:<44} {point.rate:>10,.0f} ev/s  ({point.seconds:.2f} s)")
    print(
        f"ours/library = {ratio(ours, catch_up['library']):.2f}   "
        f"ours/raw-select = {ratio(ours, catch_up['raw_select']):.3f}   decode/raw-select"
        f" (G6) = {ratio(catch_up['select_decode'], catch_up['raw_select']):.3f}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--database-url", default="postgresql://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--seconds", type=float, default=5.0, help="per append measurement")
    parser.add_argument("--events", type=int, default=20_000, help="events to catch up on")
    parser.add_argument("--threads", default="1,4,8", help="writer thread counts")
    parser.add_argument("--timeout", type=float, default=300.0, help="library runner limit, s")
    parser.add_argument("--json", metavar="PATH", help="also write every figure as JSON")
    args = parser.parse_args()
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))
    thread_counts = [int(t) for t in args.threads.split(",")]
    dbname = f"qcflow_bench_{secrets.token_hex(4)}"
    admin = make_conninfo(args.database_url)
    conninfo = make_conninfo(args.database_url, dbname=dbname)
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(dbname)))
        server = conn.info.server_version
    print(f"database {dbname} on PostgreSQL {server}", flush=True)
    appends: dict[int, dict[str, Point]] = {}
    state_bytes = 0
    try:
        for threads in thread_counts:
            appends[threads], state_bytes = append_point(conninfo, threads, args.seconds)
            cells = ", ".join(f"{k} {v.cell()}" for k, v in appends[threads].items())
            print(f"append, {threads} thread(s): {cells}", flush=True)
        catch_up = catch_up_points(conninfo, args.events, args.timeout)
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            drop = sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)")
            conn.execute(drop.format(sql.Identifier(dbname)))
        print(f"dropped database {dbname}")
    print_summary(appends, catch_up)
    if args.json:
        figures = {
            "server_version": server,
            "settings": {"seconds": args.seconds, "events": args.events, "threads": thread_counts},
            "event_state_bytes": state_bytes,
            "append": {str(t): {k: asdict(v) for k, v in p.items()} for t, p in appends.items()},
            "catch_up": {k: asdict(v) for k, v in catch_up.items()},
        }
        with open(args.json, "w", encoding="utf-8") as out:
            json.dump(figures, out, indent=2)


if __name__ == "__main__":
    main()
