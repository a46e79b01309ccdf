"""The connection budget (issue 22 §2, ADR 30): a process holds the same number of PostgreSQL
connections whatever its number of tenants, 2 × QCFLOW_PG_POOL_SIZE + 1 (the ledgers' pool,
the read models' pool, the one listening connection), at most 12 at the defaults."""

from __future__ import annotations

import shutil
import threading
import time
from pathlib import Path

import psycopg
import pytest
from psycopg.conninfo import conninfo_to_dict

from aggregates.ledger.application import AssociationLedger
from projections.service import PlatformViews
from tenants.runtime import Platform
from tenants.settings import TENANTS_DIR, Settings
from tests.support import open_qc_campaign

pytestmark = pytest.mark.postgres


def tenants_folder(into: Path, generated: int) -> Path:
    """The repository's four tenants and `generated` more (national ones, copies of saq)."""
    into.mkdir()
    for path in TENANTS_DIR.glob("*.toml"):
        shutil.copy(path, into / path.name)
    template = (TENANTS_DIR / "saq.toml").read_text()
    for i in range(1, generated + 1):
        text = template.replace('code = "saq"', f'code = "gen{i:02d}"', 1)
        text = text.replace('level = "provincial"', 'level = "national"', 1)
        lines = [line for line in text.splitlines() if not line.startswith("national_parent")]
        (into / f"gen{i:02d}.toml").write_text("\n".join(lines) + "\n")
    return into


def backends(admin_url: str, dbname: str) -> int:
    with psycopg.connect(admin_url, autocommit=True) as conn:
        row = conn.execute(
            "SELECT count(*) FROM pg_stat_activity"
            " WHERE datname = %s AND backend_type = 'client backend'",
            (dbname,),
        ).fetchone()
    return int(row[0]) if row else 0


def held_while_working(settings: Settings, admin_url: str, dbname: str, year: int) -> int:
    """The most connections the platform holds, with every runner and follower started and
    writes going on in several tenants at once."""
    platform = Platform.from_settings(settings)
    views = PlatformViews(platform, poll_interval=0.05)
    most = 0
    try:
        views.start()
        deadline = time.monotonic() + 60
        while any(s.state != "active" for v in views for s in v.statuses()):
            assert time.monotonic() < deadline, "runners did not all become active"
            time.sleep(0.05)

        failures: list[BaseException] = []

        def write(ledger: AssociationLedger) -> None:
            try:
                for offset in range(3):
                    open_qc_campaign(ledger, year + offset)
            except BaseException as e:
                failures.append(e)

        codes = list(dict.fromkeys(["saq", "sdaq", "caq", *sorted(platform.tenants)[-3:]]))
        writers = [
            threading.Thread(target=write, args=(platform.tenants[code].ledger,)) for code in codes
        ]
        for thread in writers:
            thread.start()
        while any(t.is_alive() for t in writers):
            most = max(most, backends(admin_url, dbname))
            time.sleep(0.02)
        assert not failures, failures
        for code in codes:
            head = platform.tenants[code].ledger.recorder.max_notification_id()
            assert views[code].wait(head, timeout=30), code
        # The pools fill to their size in the background: give them the time to.
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            most = max(most, backends(admin_url, dbname))
            time.sleep(0.1)
    finally:
        views.close()
        platform.close()
    return most


def test_a_process_holds_the_same_connections_for_4_and_40_tenants(
    postgres_url: str, postgres_admin: str, tmp_path: Path
) -> None:
    dbname = str(conninfo_to_dict(postgres_url)["dbname"])
    held = {}
    for count in (4, 40):
        folder = tenants_folder(tmp_path / f"tenants{count}", count - 4)
        settings = Settings(
            database_url=postgres_url, data_dir=tmp_path / f"var{count}", tenants_dir=folder
        )
        held[count] = held_while_working(settings, postgres_admin, dbname, 2000 + count)
        deadline = time.monotonic() + 5  # a closed connection's backend ends a moment later
        while backends(postgres_admin, dbname) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert backends(postgres_admin, dbname) == 0  # all given back at close
    budget = 2 * Settings().pg_pool_size + 1
    assert held == {4: budget, 40: budget}
    assert budget <= 12
