"""A read model's commits do not wait for the disk; the sign-in tables' do (ADR 0031):
`PostgresViewDatabase(derived=…)` sets `synchronous_commit` off in each of its transactions,
`SQLiteViewDatabase(derived=…)` its file's `synchronous` to NORMAL (FULL otherwise: the
default of SQLite as built here is FULL)."""

from __future__ import annotations

from typing import Any

import pytest

from projections.service import TenantViews
from projections.store import ViewDatabase, open_view_database
from tenants.runtime import Platform

pytestmark = pytest.mark.tenants("saq")

POSTGRES = "SELECT setting, source = 'session' FROM pg_settings WHERE name = 'synchronous_commit'"
"""The setting, and whether this transaction set it (`SET LOCAL` shows as the session's; the
tests' databases default to off themselves, at the database's level)."""
SQLITE = "PRAGMA synchronous"
SQLITE_NORMAL, SQLITE_FULL = 1, 2


def flushing(tx: Any, backend: str) -> tuple[Any, ...]:
    """Whether the transaction waits for its commit to reach the disk, as the backend says it."""
    (row,) = tx.execute(POSTGRES if backend == "postgres" else SQLITE)
    return tuple(row)


def expected_on_sqlite(derived: bool) -> tuple[int]:
    return (SQLITE_NORMAL,) if derived else (SQLITE_FULL,)


@pytest.mark.parametrize("derived", [True, False], ids=["read model", "sign-ins"])
def test_only_a_read_models_commits_skip_the_flush(
    platform: Platform, backend: str, derived: bool
) -> None:
    db: ViewDatabase = open_view_database(
        platform.tenants["saq"].location, "derived_test", derived=derived
    )
    try:
        # A runner's batch (pipelined on PostgreSQL), then a rebuild's swap or a batch written
        # again alone.
        for batch in (True, False):
            with db.transaction(batch=batch) as tx:
                found = flushing(tx, backend)
            if backend == "postgres":
                assert found[1] is derived and (found[0] == "off" or not derived)
            else:
                assert found == expected_on_sqlite(derived)
        if backend == "postgres":
            with db.read() as tx:  # the setting was the transaction's own
                assert flushing(tx, backend)[1] is False
    finally:
        db.close()


def test_the_read_models_of_a_tenant_are_derived(platform: Platform, backend: str) -> None:
    views = TenantViews(platform.tenants["saq"])
    try:
        for runner in views.runners.values():
            with runner.db.transaction(batch=True) as tx:
                found = flushing(tx, backend)
            assert found == (("off", True) if backend == "postgres" else (SQLITE_NORMAL,))
    finally:
        views.close()
