"""On SQLite a read model's commits are not flushed to the disk one by one (`synchronous=NORMAL`
in WAL mode): it is derived from the ledger and tracked with it, so a power cut costs at most
its last batches, applied again from the stored position. What is not derived (the sign-ins
and their mail) is flushed at every commit, as the ledger is."""

from __future__ import annotations

import pytest

from projections.service import PlatformViews
from projections.store import open_view_database
from tenants.runtime import Platform

pytestmark = pytest.mark.tenants("saq")

NORMAL, FULL = 1, 2
"""SQLite's `PRAGMA synchronous` answers."""


@pytest.mark.parametrize("backend", ["sqlite"])
def test_read_models_do_not_flush_each_commit_and_the_sign_ins_do(platform: Platform) -> None:
    views = PlatformViews(platform)
    try:
        for runner in views["saq"].runners.values():
            assert runner.db.read_rows("PRAGMA synchronous") == [(NORMAL,)], runner.projection
    finally:
        views.close()
    auth = open_view_database(platform.tenants["saq"].location, "auth")
    try:
        assert auth.read_rows("PRAGMA synchronous") == [(FULL,)]
    finally:
        auth.close()
