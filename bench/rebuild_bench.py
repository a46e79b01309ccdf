"""Rebuild benchmark: every read model of every tenant rebuilt from zero over a generated history
of at least a million events, against a raw SELECT of the same rows in the same run."""

from __future__ import annotations

import argparse
import json
import logging
import multiprocessing
import os
import pickle
import resource
import secrets
import subprocess
import sys
import tempfile
import time
import traceback
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass
from typing import Any
from urllib.parse import urlsplit

import psycopg
import structlog
from eventsourcing.utils import get_topic
from psycopg import sql
from psycopg.conninfo import make_conninfo

from aggregates.campaign import Campaign
from aggregates.expert import Expert
from aggregates.grading import Grading
from aggregates.ledger.application import AssociationLedger
from aggregates.review_round import ReviewRound
from aggregates.statistics_table import StatisticsTable
from aggregates.submission import Submission
from bench.rebuild_dataset import Dataset, check, generate
from bench.rebuild_store import connect
from projections.runner import Projection, ProjectionRunner
from projections.service import PROJECTIONS
from projections.store import open_view_database
from tenants.registry import TenantRegistry
from tenants.runtime import StoreLocation
from tenants.settings import TENANTS_DIR

PAGE = 500


def _topic_count(*classes: type) -> Callable[[Dataset, str], int]:
    topics = [get_topic(c) for c in classes]
    return lambda dataset, code: sum(dataset.topics[code][t] for t in topics)


# Rows a read model's table must hold, from the generated events (tables not listed are shown
# but not checked). Rows that events remove or merge are counted from the stored events in SQL.
EXPECTED: dict[str, Callable[[Dataset, str], int] | str] = {
    "campaign_list": _topic_count(Campaign.Opened),
    "submission_list": _topic_count(Submission.Drafted, Submission.Received),
    "expert_pool": _topic_count(Expert.Enrolled),
    "review_entrants": "SELECT coalesce(sum(jsonb_array_length(convert_from(state, 'UTF8')::jsonb"
    f" -> 'entrants')), 0) FROM {{events}} WHERE topic = '{get_topic(ReviewRound.Opened)}'",
    "review_assignments": lambda d, c: (
        _topic_count(ReviewRound.ReviewerAssigned)(d, c)
        - _topic_count(ReviewRound.ReviewerReleased)(d, c)
    ),
    "review_results": "SELECT coalesce(sum(n), 0) FROM (SELECT DISTINCT ON (originator_id)"
    " jsonb_array_length(convert_from(state, 'UTF8')::jsonb -> 'entries') AS n FROM {events}"
    f" WHERE topic IN ('{get_topic(Grading.Graded)}', '{get_topic(Grading.Regraded)}')"
    " ORDER BY originator_id, originator_version DESC) AS latest",
    "reported_tables": _topic_count(StatisticsTable.Recorded),
}


@dataclass
class Measured:
    tenant: str
    projection: str
    events: int
    """Rows of the read model's topics: what both readers read."""
    seconds: float
    raw_seconds: float
    rows: dict[str, int]
    checked: bool
    raw_binary_seconds: float = 0.0
    """The same raw read with rows in binary (`bytea` as it is, not hex text), as the runner
    now reads the log: the goal's ratio is against psycopg's default (text), as measured when
    the issue was filed; this one says how far ours is from the quickest plain read."""

    @property
    def binary_ratio(self) -> float:
        """Ours against the raw read in binary."""
        return self.raw_binary_seconds / self.seconds

    @property
    def rate(self) -> float:
        return self.events / self.seconds if self.seconds else 0.0

    @property
    def raw_rate(self) -> float:
        return self.events / self.raw_seconds if self.raw_seconds else 0.0


def rss_mb() -> float:
    with open("/proc/self/statm", encoding="ascii") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def raw_read(
    conn: psycopg.Connection[Any],
    schema: str,
    topics: tuple[str, ...],
    head: int,
    *,
    binary: bool = False,
) -> tuple[int, float]:
    """The rows a projection reads, page by page as the runner pages, without decoding."""
    table = sql.Identifier(schema, f"{AssociationLedger.name}_events")
    where = sql.SQL(" AND topic = ANY(%s)") if topics else sql.SQL("")
    page = sql.SQL(
        "SELECT notification_id, topic, state FROM {} WHERE notification_id > %s{}"
        " ORDER BY notification_id LIMIT %s"
    ).format(table, where)
    start, last, seen = time.perf_counter(), 0, 0
    for _ in range(head // PAGE + 2):
        params = (last, list(topics), PAGE) if topics else (last, PAGE)
        rows = conn.cursor(binary=binary).execute(page, params, prepare=True).fetchall()
        seen += len(rows)
        if len(rows) < PAGE:
            break
        last = int(rows[-1][0])
    else:
        raise RuntimeError(f"{schema}: raw read did not end")
    return seen, time.perf_counter() - start


def _raw_reads(
    conn: psycopg.Connection[Any], schema: str, topics: tuple[str, ...], head: int
) -> tuple[int, float, float]:
    """The rows read raw, in text (psycopg's default) and in binary: how many, and each time."""
    read, text = raw_read(conn, schema, topics, head)
    return read, text, raw_read(conn, schema, topics, head, binary=True)[1]


def rebuild(runner: ProjectionRunner, head: int) -> int:
    """Catch up from zero, a batch per transaction (bounded: at most one batch per page of the
    log, plus the last); answers the position reached."""
    for _ in range(head // runner.batch_size + 2):
        if not runner.catch_up_once():
            break
    else:
        raise RuntimeError(f"{runner.projection.name}: did not catch up to {head}")
    with runner.db.transaction() as tx:
        return tx.position(runner.projection.name, runner.ledger.name)


def measure_tenant(
    location: StoreLocation, dataset: Dataset, conninfo: str, batch: int
) -> list[Measured]:
    code, schema = location.tenant, location.schema or ""
    events = f'"{schema}"."{AssociationLedger.name}_events"'
    found: list[Measured] = []
    with connect(conninfo, autocommit=True) as conn:
        head = int(
            conn.execute(f"SELECT coalesce(max(notification_id), 0) FROM {events}").fetchone()[0]
        )  # type: ignore[index]
        # Untimed: the whole log read once, so both readers find it in memory alike.
        conn.execute(f"SELECT count(*), sum(octet_length(state)) FROM {events}").fetchone()
        ledger = AssociationLedger(location.ledger_env(pool_size=2))
        db = open_view_database(location, "rebuild_bench")
        try:
            for projection_class in PROJECTIONS:
                projection: Projection = projection_class()
                # The raw reads bracket the rebuild (each side once before it and once after, the
                # mean taken): the machine's speed moves from minute to minute, and a ratio of
                # two times measured a minute apart showed it.
                before = _raw_reads(conn, schema, projection.topics, head)
                start = time.perf_counter()
                runner = ProjectionRunner(
                    projection, ledger, db, location.ledger_channel, batch_size=batch
                )  # creates its (fresh, empty) tables
                position = rebuild(runner, head)
                seconds = time.perf_counter() - start
                after = _raw_reads(conn, schema, projection.topics, head)
                rows, checked = _rows(conn, schema, projection, dataset, code, events)
                read = before[0]
                raw_seconds = (before[1] + after[1]) / 2
                raw_binary_seconds = (before[2] + after[2]) / 2
                applied = runner.events_applied
                if position != head or applied != read:
                    msg = f"{code}/{projection.name}: at {position} of {head}, applied {applied} of {read}"
                    raise RuntimeError(msg)
                found.append(
                    Measured(
                        code,
                        projection.name,
                        read,
                        seconds,
                        raw_seconds,
                        rows,
                        checked,
                        raw_binary_seconds,
                    )
                )
                print(
                    f"  {code:<6} {projection.name:<20} {read:>9,} events {seconds:7.2f} s",
                    flush=True,
                )
        finally:
            db.close()
            ledger.close()
    return found


def _rows(
    conn: psycopg.Connection[Any],
    schema: str,
    projection: Projection,
    dataset: Dataset,
    code: str,
    events: str,
) -> tuple[dict[str, int], bool]:
    """Each table's rows, checked against the generated events where EXPECTED says how."""
    rows, checked = {}, False
    for table in projection.tables:
        count = conn.execute(
            sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(schema, table))
        ).fetchone()
        rows[table] = int(count[0]) if count else 0
        rule = EXPECTED.get(table)
        if rule is None:
            continue
        if isinstance(rule, str):
            found = conn.execute(rule.replace("{events}", events)).fetchone()  # type: ignore[call-overload]
            expected = int(found[0]) if found else 0
        else:
            expected = rule(dataset, code)
        if rows[table] != expected:
            raise RuntimeError(f"{code}/{table}: {rows[table]} rows, expected {expected}")
        checked = True
    return rows, checked


def build(conninfo: str, events: int, seed: int) -> tuple[Dataset, list[str]]:
    """Generation and its check, run in a child process: its memory is not the rebuild's."""
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))
    registry = TenantRegistry.load(TENANTS_DIR)
    try:
        dataset = generate(conninfo, registry, events, seed)
        return dataset, check(conninfo, registry, dataset)
    except Exception:
        # Domain errors do not survive the trip back to the parent (pickling): send the text.
        raise RuntimeError(traceback.format_exc()) from None


def print_summary(measured: list[Measured], dataset: Dataset, rss: tuple[float, float]) -> None:
    tenants = len({m.tenant for m in measured})
    print(f"\n=== Rebuild of every read model of {tenants} tenants: {dataset.events:,} events ===")
    print(
        f"{'read model':<20} {'tenant':<6} {'events':>10} {'seconds':>8} {'events/s':>9}"
        f" {'raw ev/s':>10} {'ours/raw':>8}  rows"
    )
    for name in dict.fromkeys(m.projection for m in measured):
        group = [m for m in measured if m.projection == name]
        for m in [*group, _total(group, "all")]:
            rows = ", ".join(f"{t} {n:,}" for t, n in m.rows.items())
            mark = " (checked)" if m.checked else ""
            print(
                f"{m.projection:<20} {m.tenant:<6} {m.events:>10,} {m.seconds:>8.2f} {m.rate:>9,.0f}"
                f" {m.raw_rate:>10,.0f} {m.rate / m.raw_rate if m.raw_rate else 0:>8.3f}  {rows}{mark}"
            )
    total = _total(measured, "all")
    print(
        f"{'TOTAL':<20} {'all':<6} {total.events:>10,} {total.seconds:>8.2f} {total.rate:>9,.0f}"
        f" {total.raw_rate:>10,.0f} {total.rate / total.raw_rate:>8.3f}"
    )
    print(
        f"(an event read by several read models counts once for each; the log holds"
        f" {dataset.events:,})\n\nTime to rebuild all read models of all tenants:"
        f" {total.seconds:.1f} s, {dataset.events / total.seconds:,.0f} log events/s"
        f" (raw SELECT of the same rows: {total.raw_seconds:.1f} s; ours/raw ="
        f" {total.rate / total.raw_rate:.3f})"
    )
    print(
        f"Against the same raw SELECT with rows in binary ({total.raw_binary_seconds:.1f} s),"
        f" as the runner reads: ours/raw = {total.binary_ratio:.3f}"
    )
    print(f"Peak RSS during the rebuild: {rss[1]:.0f} MB (RSS before it: {rss[0]:.0f} MB)")


def _total(group: list[Measured], tenant: str) -> Measured:
    rows: dict[str, int] = {}
    for m in group:
        for table, n in m.rows.items():
            rows[table] = rows.get(table, 0) + n
    return Measured(
        tenant,
        group[0].projection if len({m.projection for m in group}) == 1 else "all",
        sum(m.events for m in group),
        sum(m.seconds for m in group),
        sum(m.raw_seconds for m in group),
        rows,
        all(m.checked for m in group),
        sum(m.raw_binary_seconds for m in group),
    )


def _generate(conninfo: str, args: argparse.Namespace) -> Dataset:
    print(f"generating at least {args.events:,} events (2015-2026, every tenant):", flush=True)
    fork = multiprocessing.get_context("fork")  # before any pool or thread of ours exists
    with ProcessPoolExecutor(max_workers=1, mp_context=fork) as child:
        dataset, lines = child.submit(build, conninfo, args.events, args.seed).result()
    print(
        f"generated {dataset.events:,} events in {dataset.seconds:.0f} s (not measured);"
        f" {dataset.participants:,} applicant units took part; generator peak RSS"
        f" {resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024:.0f} MB"
    )
    if dataset.events < args.events:
        print(f"WARNING: {dataset.events:,} events generated, fewer than {args.events:,}")
    for line in lines:
        print(f"  {line}")
    return dataset


def _drop_read_models(conninfo: str, schema: str) -> None:
    """What an earlier rebuild over a kept database left: every read model's tables and
    positions (the ledger stays)."""
    with connect(conninfo, autocommit=True) as conn:
        for projection in PROJECTIONS:
            for table in projection.tables:
                conn.execute(
                    sql.SQL("DROP TABLE IF EXISTS {}").format(sql.Identifier(schema, table))
                )
        tracking = sql.Identifier(schema, "projection_tracking")
        conn.execute(sql.SQL("DROP TABLE IF EXISTS {}").format(tracking))


def _arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--database-url", default="postgresql://postgres@127.0.0.1:5432/postgres")
    parser.add_argument(
        "--events", type=int, default=1_000_000, help="events to generate, at least"
    )
    parser.add_argument("--seed", type=int, default=2015, help="the generated history's seed")
    parser.add_argument("--batch", type=int, default=500, help="the runner's batch size")
    parser.add_argument("--json", metavar="PATH", help="also write every figure as JSON")
    parser.add_argument(
        "--keep",
        metavar="PATH",
        help="keep the generated database, and write what --reuse needs to PATH",
    )
    parser.add_argument(
        "--jobs",
        type=int,
        default=2,
        help="then rebuild everything again as `qcflow projections rebuild --all --jobs N`"
        " (0: not)",
    )
    parser.add_argument(
        "--reuse",
        metavar="PATH",
        help="rebuild over the database a --keep run left (no generation; kept again)",
    )
    return parser.parse_args()


def main() -> None:
    args = _arguments()
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))
    admin = make_conninfo(args.database_url)
    if args.reuse:
        with open(args.reuse, "rb") as kept:
            dbname, dataset = pickle.load(kept)  # noqa: S301 (a file this script wrote)
    else:
        dbname = f"qcflow_bench_{secrets.token_hex(4)}"
        with connect(admin, autocommit=True) as conn:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(dbname)))
    conninfo = make_conninfo(args.database_url, dbname=dbname)
    with connect(admin, autocommit=True) as conn:
        server = conn.info.server_version
    print(f"database {dbname} on PostgreSQL {server}", flush=True)
    try:
        if args.reuse:
            print(f"reusing {dataset.events:,} events generated before", flush=True)
        else:
            dataset = _generate(conninfo, args)
            if args.keep:
                with open(args.keep, "wb") as keep:
                    pickle.dump((dbname, dataset), keep)
        registry = TenantRegistry.load(TENANTS_DIR)
        before = rss_mb()
        measured: list[Measured] = []
        print(f"rebuilding {len(PROJECTIONS)} read models per tenant:", flush=True)
        for tenant in registry:
            location = StoreLocation(tenant.code, conninfo=conninfo, schema=tenant.schema)
            if args.reuse:
                _drop_read_models(conninfo, tenant.schema)
            measured += measure_tenant(location, dataset, conninfo, args.batch)
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        together = _rebuild_together(args, dbname, args.jobs) if args.jobs else None
    finally:
        if args.keep or args.reuse:
            print(f"kept database {dbname}")
        else:
            with connect(admin, autocommit=True) as conn:
                drop = sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)")
                conn.execute(drop.format(sql.Identifier(dbname)))
            print(f"dropped database {dbname}")
    print_summary(measured, dataset, (before, peak))
    total = _total(measured, "all")
    if together is not None:
        print(
            f"\n`qcflow projections rebuild --all --jobs {args.jobs}` (what an operator runs: every"
            f" read model of every tenant, beside the live ones and swapped in, {args.jobs}"
            f" processes): {together:.1f} s; ours/raw = {total.raw_seconds / together:.3f},"
            f" against the raw SELECT in binary {total.raw_binary_seconds / together:.3f}"
        )
    if args.json:
        _write_json(args, server, dataset, measured, (before, peak), together)


def _rebuild_together(args: argparse.Namespace, dbname: str, jobs: int) -> float:
    """Seconds for the command line's rebuild of every read model of every tenant with `jobs`
    processes, over the read models just built (so each is rebuilt beside its live tables and
    swapped in, as in production): the process starting, the platform opening and all."""
    url = urlsplit(args.database_url)._replace(path=f"/{dbname}").geturl()
    with tempfile.TemporaryDirectory(prefix="qcflow-rebuild-bench-") as data:
        env = os.environ | {
            "QCFLOW_DATABASE_URL": url,
            "QCFLOW_DATA_DIR": data,
            "QCFLOW_LOG_LEVEL": "warning",
        }
        command = [sys.executable, "-c", "from api.cli import main; raise SystemExit(main())"]
        start = time.perf_counter()
        done = subprocess.run(  # noqa: S603 (our own command line)
            [*command, "projections", "rebuild", "--all", "--jobs", str(jobs)],
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
        seconds = time.perf_counter() - start
    if done.returncode != 0:
        raise RuntimeError(f"rebuild --jobs {jobs} failed: {done.stderr[-2000:]}")
    print(f"rebuilt with --jobs {jobs}: {len(done.stdout.splitlines())} read models", flush=True)
    return seconds


def _write_json(
    args: argparse.Namespace,
    server: int,
    dataset: Dataset,
    measured: list[Measured],
    rss: tuple[float, float],
    together: float | None,
) -> None:
    before, peak = rss
    total = _total(measured, "all")
    figures = {
        "server_version": server,
        "settings": {"events": args.events, "seed": args.seed, "batch": args.batch},
        "dataset": {
            "events": dataset.events,
            "generation_seconds": dataset.seconds,
            "events_per_tenant": {c: sum(t.values()) for c, t in dataset.topics.items()},
            "topics": {c: dict(t) for c, t in dataset.topics.items()},
        },
        "rebuild": [asdict(m) | {"rate": m.rate, "raw_rate": m.raw_rate} for m in measured],
        "total": asdict(total)
        | {
            "ratio": total.rate / total.raw_rate,
            "ratio_to_binary": total.binary_ratio,
        },
        "rss_mb": {"before": before, "peak": peak},
        "rebuild_together": None
        if together is None
        else {
            "jobs": args.jobs,
            "seconds": together,
            "ratio": total.raw_seconds / together,
            "ratio_to_binary": total.raw_binary_seconds / together,
        },
    }
    with open(args.json, "w", encoding="utf-8") as out:
        json.dump(figures, out, indent=2, ensure_ascii=False)


if __name__ == "__main__":
    main()
