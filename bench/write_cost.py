"""What a write costs the database, and what an idle platform costs it (issue 22 §1–2).

Runs the platform in-process (the app over Litestar's test client, the read models' runners and
the forwarding followers started as `qcflow serve` starts them) on a fresh PostgreSQL database,
and reads that database's counters in pg_stat_database:

- idle commits per second: `xact_commit` over a quiet interval, once every runner is idle;
- commits per draft: `xact_commit` over N drafts of a QC result by a signed-in applicant (each
  POST waits, as always, until the read models show it), everything the runners and followers
  do for them included (the count is read STATS_LAG after the last draft);
- connections: the backends on the database (pg_stat_activity), with `--tenants` generated
  tenants beside the four of the repository (the connection budget, README);
- WAL flushes per draft: pg_stat_wal.wal_sync, server-wide (other databases add to it).

    PYTHONPATH=. .venv/bin/python bench/write_cost.py --drafts 50 --idle 10 --runs 3
    PYTHONPATH=. .venv/bin/python bench/write_cost.py --tenants 36   # 40 tenants
"""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import shutil
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import psycopg
import structlog
from litestar.testing import TestClient
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from aggregates.account import AccountStatus, Grant
from aggregates.actor import Actor, Role
from api.app import create_app
from tenants.settings import TENANTS_DIR, Settings
from tests.api.test_submissions import APPLICANT_BLOCK, campaign_2024, qc_result
from tests.support import Clock, beijing, new_password

SAQ = "/api/v1/tenants/saq"
ICBC = "91100000100003962T"


def check(condition: bool, message: str) -> None:
    if not condition:
        raise RuntimeError(message)


@contextlib.contextmanager
def scratch_database(admin_url: str) -> Iterator[str]:
    name = f"qcflow_bench_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        yield make_conninfo(**{**conninfo_to_dict(admin_url), "dbname": name})
    finally:
        with psycopg.connect(admin_url, autocommit=True) as conn:
            conn.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )


def tenants_dir(extra: int, into: Path) -> Path:
    """The repository's tenants, and `extra` copies of the Shanghai association (gen01…)."""
    for path in TENANTS_DIR.glob("*.toml"):
        shutil.copy(path, into / path.name)
    template = (TENANTS_DIR / "saq.toml").read_text()
    for i in range(1, extra + 1):
        code = f"gen{i:02d}"
        text = template.replace('code = "saq"', f'code = "{code}"', 1)
        # A generated province forwards to no one: caq has no unit for it.
        text = "\n".join(
            line for line in text.splitlines() if not line.startswith("national_parent")
        )
        text = text.replace('level = "provincial"', 'level = "national"', 1)
        (into / f"{code}.toml").write_text(text)
    return into


class Counters:
    def __init__(self, admin_url: str, dbname: str) -> None:
        self.conn = psycopg.connect(admin_url, autocommit=True)
        self.dbname = dbname

    def read(self) -> tuple[int, int]:
        # The statistics are a snapshot per transaction: ask for fresh ones each time.
        self.conn.execute("SELECT pg_stat_clear_snapshot()")
        row = self.conn.execute(
            "SELECT d.xact_commit, w.wal_sync FROM pg_stat_database d, pg_stat_wal w"
            " WHERE d.datname = %s",
            (self.dbname,),
        ).fetchone()
        check(row is not None, "no statistics for the scratch database")
        found: Any = row
        return int(found[0]), int(found[1])

    def autovacuum_runs(self, url: str) -> int:
        """Autovacuum and autoanalyze runs in the scratch database so far (each is transactions
        of its own in xact_commit; the catalogs', which the tenants' DDL churns, cannot be
        turned off). Read in a transaction rolled back; the connection still commits once, as
        every new backend does while it starts, so it is read outside the windows counted."""
        with psycopg.connect(url) as conn:
            row = conn.execute(
                "SELECT coalesce(sum(autovacuum_count + autoanalyze_count), 0)"
                " FROM pg_stat_all_tables"
            ).fetchone()
            conn.rollback()
        return int(row[0]) if row else 0

    def quiet_autovacuum(self, url: str) -> None:
        """Autovacuum's own transactions count in xact_commit too: off for the scratch
        database's tables, so that the counts are the platform's alone."""
        with psycopg.connect(url, autocommit=True) as conn:
            tables = conn.execute(
                "SELECT format('%I.%I', schemaname, tablename) FROM pg_tables"
                " WHERE schemaname LIKE 't\\_%'"
            ).fetchall()
            for (table,) in tables:
                conn.execute(
                    f"ALTER TABLE {table} SET (autovacuum_enabled = false,"
                    " toast.autovacuum_enabled = false)"
                )

    def connections(self) -> int:
        row = self.conn.execute(
            "SELECT count(*) FROM pg_stat_activity"
            " WHERE datname = %s AND backend_type = 'client backend'",
            (self.dbname,),
        ).fetchone()
        return int(row[0]) if row else 0


STATS_LAG = 11.0
"""PostgreSQL 15 flushes a backend's counters at most once a second while it works, and an idle
backend's within 10 s: a count is read that long after the last thing it should include."""


def marker(url: str, log_statements: bool) -> Callable[..., None]:
    """Writes a line in the statement log (`--log-statements`) that `count_commits.py
    --between` finds; nothing without the log."""

    def note(what: str, wait: float = 0.0) -> None:
        if log_statements:
            time.sleep(wait)
            with psycopg.connect(url, autocommit=True) as conn:
                conn.execute(sql.SQL("SELECT {}").format(sql.Literal(f"qcflow-bench-mark {what}")))

    return note


def one_run(  # noqa: PLR0915 (one story, told in order)
    admin_url: str, drafts: int, idle: float, extra_tenants: int, *, log_statements: bool = False
) -> dict[str, Any]:
    with scratch_database(admin_url) as url, tempfile.TemporaryDirectory() as tmp:
        dbname = conninfo_to_dict(url)["dbname"]
        if log_statements:  # for bench/count_commits.py; this database only
            with psycopg.connect(admin_url, autocommit=True) as conn:
                conn.execute(
                    sql.SQL("ALTER DATABASE {} SET log_statement = 'all'").format(
                        sql.Identifier(str(dbname))
                    )
                )
        note = marker(url, log_statements)
        tenants = Path(tmp) / "tenants"
        tenants.mkdir()
        folder = tenants_dir(extra_tenants, tenants)
        settings = Settings(database_url=url, data_dir=Path(tmp) / "var", tenants_dir=folder)
        app = create_app(settings, clock=Clock(beijing(2024, 1, 15, 9, 30)))
        counters = Counters(admin_url, str(dbname))
        with TestClient(app) as client:
            ledger = app.state.platform.tenants["saq"].ledger
            headers = {}
            for role, scope in ((Role.SECRETARIAT, None), (Role.APPLICANT_UNIT, ICBC)):
                login, password = f"{role.value}-{uuid.uuid4().hex[:8]}@example.cn", new_password()
                ledger.register_account(
                    login=login,
                    name="测试用户",
                    password=password,
                    status=AccountStatus.ACTIVE,
                    grants=[Grant(role, scope)],
                    actor=Actor("bench-setup", Role.OPERATOR),
                )
                signed = client.post(f"{SAQ}/session", json={"login": login, "password": password})
                check(signed.status_code == 201, signed.text)
                headers[role] = {"Authorization": f"Bearer {signed.json()['token']}"}
            client.cookies.clear()
            counters.quiet_autovacuum(url)
            opened = client.post(
                f"{SAQ}/campaigns", json=campaign_2024(), headers=headers[Role.SECRETARIAT]
            )
            check(opened.status_code == 201, opened.text)
            base = f"{SAQ}/campaigns/{opened.json()['id']}/submissions"
            body = {**qc_result(), "applicant": APPLICANT_BLOCK}
            for _ in range(3):  # warm up (first statements, prepared statements, pools)
                warm = client.post(base, json=body, headers=headers[Role.APPLICANT_UNIT])
                check(warm.status_code == 201, warm.text)
            time.sleep(STATS_LAG)
            connections = counters.connections()

            # Idle: the window is `idle` seconds, read STATS_LAG later (nothing runs meanwhile).
            # The autovacuum count is read before the window opens: a new backend commits once
            # as it starts (its catalog reads), and that connection's commit is not the platform's.
            vacuums0 = counters.autovacuum_runs(url)
            time.sleep(1.0)  # its counters flushed as it exits
            commits0, _ = counters.read()
            idle_started = time.monotonic()
            note("idle begin")
            time.sleep(idle)
            note("idle end")
            time.sleep(STATS_LAG)
            commits1, _ = counters.read()
            idle_vacuums = counters.autovacuum_runs(url) - vacuums0
            idle_rate = (commits1 - commits0) / (time.monotonic() - idle_started)

            commits0, wal0 = counters.read()
            note("drafts begin")
            started = time.monotonic()
            for _ in range(drafts):
                response = client.post(base, json=body, headers=headers[Role.APPLICANT_UNIT])
                check(response.status_code == 201, response.text)
            elapsed = time.monotonic() - started
            note("drafts end", wait=1.0)  # what the followers do after the last answer
            time.sleep(STATS_LAG)
            commits1, wal1 = counters.read()
            connections = max(connections, counters.connections())
        counters.conn.close()
        total = commits1 - commits0
        return {
            "tenants": 4 + extra_tenants,
            "connections": connections,
            "idle_commits_per_s": round(idle_rate, 2),
            "idle_autovacuum_runs": idle_vacuums,
            "commits_per_draft": round(total / drafts, 2),
            "commits_per_draft_less_idle": round((total - idle_rate * elapsed) / drafts, 2),
            "wal_syncs_per_draft": round((wal1 - wal0) / drafts, 2),
            "drafts_per_s": round(drafts / elapsed, 1),
        }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--database-url", default="postgresql://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--drafts", type=int, default=50)
    parser.add_argument("--idle", type=float, default=10.0, help="seconds of idle measured")
    parser.add_argument("--tenants", type=int, default=0, help="generated tenants beside the 4")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--json", type=Path)
    parser.add_argument(
        "--log-statements",
        action="store_true",
        help="log every statement of the scratch database (for bench/count_commits.py)",
    )
    args = parser.parse_args()
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))
    runs = [
        one_run(
            args.database_url,
            args.drafts,
            args.idle,
            args.tenants,
            log_statements=args.log_statements,
        )
        for _ in range(args.runs)
    ]
    for run in runs:
        print(json.dumps(run))
    summary = {
        key: (
            min(r[key] for r in runs),
            statistics.median(r[key] for r in runs),
            max(r[key] for r in runs),
        )
        for key in runs[0]
    }
    print("min / median / max:", json.dumps(summary))
    if args.json:
        args.json.write_text(json.dumps({"runs": runs, "summary": summary}, indent=2))


if __name__ == "__main__":
    main()
