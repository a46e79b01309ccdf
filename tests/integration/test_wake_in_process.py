"""SQLite has no notifications: a write made in this process wakes the loops that follow its
ledger here (`PlatformViews.written`, wired by `follow_writes`), its read models and the
followers that forward from it, whoever made the write (a request, a script on the ledger, a
follower recording into its target). The poll interval is only how soon another process's writes
are seen. (On PostgreSQL the listener wakes them: tests/integration/test_wake_by_topic.py.)"""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest

from api.platform.read_your_writes import follow_writes
from projections.service import PlatformViews
from tenants.runtime import Platform
from tests.integration.test_projection_runner import wait_until
from tests.support import open_qc_campaign

pytestmark = pytest.mark.tenants("saq", "caq")

NEVER = 60.0
"""A poll interval far longer than the test: what it sees was not found by polling."""


@pytest.mark.parametrize("backend", ["sqlite"])
def test_a_write_outside_any_request_wakes_the_read_models_and_followers_of_its_ledger(
    platform: Platform,
) -> None:
    views = PlatformViews(platform, poll_interval=NEVER)
    follow_writes(platform, views)
    intake = next(f for f in views.forwarding or () if f.upstream.tenant.code == "saq")
    outcomes = next(f for f in views.forwarding or () if f.upstream.tenant.code == "caq")
    steps = {"intake": 0, "outcomes": 0}

    def counted(name: str, step: Callable[[], bool]) -> Callable[[], bool]:
        def counting() -> bool:
            steps[name] += 1
            return step()

        return counting

    intake.step = counted("intake", intake.step)  # type: ignore[method-assign]
    outcomes.step = counted("outcomes", outcomes.step)  # type: ignore[method-assign]
    try:
        views.start()
        assert wait_until(
            lambda: all(s.state == "active" for v in ("saq", "caq") for s in views.statuses(v))
        )
        assert wait_until(lambda: steps["intake"] > 0 and steps["outcomes"] > 0)
        time.sleep(0.2)  # each has looked and found nothing: it waits for a wake-up now
        before = dict(steps)

        saved = open_qc_campaign(platform.tenants["saq"].ledger, 2031)  # no request around it

        assert saved.position is not None
        campaigns = views["saq"].runners["campaign_list"]
        assert wait_until(lambda: campaigns.status().position >= saved.position, timeout=5)
        assert wait_until(lambda: steps["intake"] > before["intake"], timeout=5)
        assert steps["outcomes"] == before["outcomes"]  # caq was not written
    finally:
        views.close()
