"""Read-your-writes in a process that does not run the read models (the web beside a `qcflow
worker`), on PostgreSQL: one wait per tenant, told by notifications (each write's position and
topics, each runner's applied batch) rather than by polling every read model's stored position
(`projections.progress`, issue 22 §1)."""

from __future__ import annotations

from collections.abc import Iterator

import psycopg
import pytest

from projections.service import TenantViews
from tenants.runtime import Platform, TenantRuntime
from tenants.settings import Settings
from tests.integration.test_projection_runner import open_campaigns, wait_until

pytestmark = [pytest.mark.tenants("saq"), pytest.mark.parametrize("backend", ["postgres"])]


@pytest.fixture
def saq(platform: Platform) -> TenantRuntime:
    return platform.tenants["saq"]


@pytest.fixture
def worker(saq: TenantRuntime) -> Iterator[TenantViews]:
    """The read models, run (as a `qcflow worker` runs them), not started yet."""
    views = TenantViews(saq, poll_interval=30.0)  # a long poll: only notifications move it
    yield views
    views.close()


@pytest.fixture
def web(saq: TenantRuntime) -> Iterator[TenantViews]:
    """The same read models, never started here: this process only waits for them."""
    views = TenantViews(saq, poll_interval=30.0)
    yield views
    views.close()


def listed(views: TenantViews) -> int:
    with views.db("campaign_list").read() as tx:
        return int(tx.execute("SELECT count(*) FROM {campaign_list}")[0][0])


def active(views: TenantViews) -> bool:
    return all(s.state == "active" for s in views.statuses())


def test_the_web_is_told_when_the_worker_has_applied_each_write(
    saq: TenantRuntime,
    worker: TenantViews,
    web: TenantViews,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr("projections.progress.RECHECK", 30.0)  # never re-read for want of news
    worker.start()
    assert wait_until(lambda: active(worker))
    assert web.progress is not None
    for n, year in enumerate(range(2001, 2006), 1):
        position = open_campaigns(saq.ledger, range(year, year + 1), amendments=1)
        assert web.wait(position, timeout=5)
        assert listed(web) == n  # what the wait promised: the write is readable
    assert web.progress.baselines == 1  # read the stores once; then only told


def test_a_write_no_runner_has_applied_is_not_passed(
    saq: TenantRuntime, worker: TenantViews, web: TenantViews
) -> None:
    position = open_campaigns(saq.ledger, range(2001, 2002))
    assert not web.wait(position, timeout=0.6)  # nothing runs the read models yet
    worker.start()
    assert web.wait(position, timeout=5)
    assert listed(web) == 1
    later = open_campaigns(saq.ledger, range(2002, 2003))
    assert web.wait(later, timeout=5)
    assert listed(web) == 2


def test_a_wait_started_before_the_baseline_sees_writes_made_before_it(
    saq: TenantRuntime, worker: TenantViews, web: TenantViews
) -> None:
    # The worker applies three writes before the web has ever looked at the stores.
    worker.start()
    first = open_campaigns(saq.ledger, range(2001, 2004))
    assert worker.wait(first, timeout=5)
    assert web.wait(first, timeout=5)
    assert listed(web) == 3


def test_the_web_still_waits_rightly_after_its_listening_connection_is_lost(
    saq: TenantRuntime, worker: TenantViews, web: TenantViews, settings: Settings
) -> None:
    assert settings.database_url is not None
    worker.start()
    assert wait_until(lambda: active(worker))
    position = open_campaigns(saq.ledger, range(2001, 2002))
    assert web.wait(position, timeout=5)
    assert web.progress is not None
    pid = web.db("campaign_list").listener.backend_pid  # type: ignore[attr-defined]
    with psycopg.connect(settings.database_url, autocommit=True) as admin:
        admin.execute("SELECT pg_terminate_backend(%s)", (pid,))
    # Writes made while the listener is gone are not notified: the next wait reads the stores.
    later = open_campaigns(saq.ledger, range(2002, 2004))
    assert web.wait(later, timeout=10)
    assert listed(web) == 3
    assert web.progress.baselines >= 2
