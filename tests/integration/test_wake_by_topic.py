"""Runners wake only for the topics they follow (issue 22 §1): a write's NOTIFY names its last
position and its topics, the listener wakes the loops that follow one of them, and a read model
that a write does not concern still counts as having passed it (read-your-writes)."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator

import psycopg
import pytest
from eventsourcing.utils import get_topic
from psycopg import sql

from aggregates.campaign import Campaign
from projections.listener import ListenerClaim
from projections.runner import Projection, ProjectionRunner
from projections.store import open_view_database
from tenants.postgres import notify_payload, parse_payload
from tenants.runtime import Platform, TenantRuntime
from tenants.settings import Settings
from tests.integration.test_projection_runner import (
    EventLogProjection,
    open_campaigns,
    rows,
    wait_until,
)
from tests.support import SECRETARY as SECRETARIAT

pytestmark = pytest.mark.tenants("saq")


class OpenedOnly(EventLogProjection):
    topics = (get_topic(Campaign.Opened),)


@pytest.fixture
def saq(platform: Platform) -> TenantRuntime:
    return platform.tenants["saq"]


@pytest.fixture
def make_runner(saq: TenantRuntime) -> Iterator[Callable[..., ProjectionRunner]]:
    made: list[ProjectionRunner] = []

    def make(projection: Projection, **options: float) -> ProjectionRunner:
        db = open_view_database(saq.location, "event_log")
        runner = ProjectionRunner(
            projection, saq.ledger, db, saq.location.ledger_channel, **options
        )
        made.append(runner)
        return runner

    yield make
    for runner in made:
        runner.stop()
        runner.db.close()


def amend(saq: TenantRuntime, times: int) -> int:
    """Amend the rules of the first campaign `times` times (events no test view follows here);
    the last position."""
    recorder = saq.ledger.recorder
    first = recorder.select_notifications(start=1, limit=1, topics=(get_topic(Campaign.Opened),))
    position = 0
    for i in range(times):
        amended = saq.ledger.amend_rules(
            first[0].originator_id, {"members_max": 10 - i % 3}, "调整", SECRETARIAT
        )
        position = amended.position or position
    return position


def counted_steps(runner: ProjectionRunner) -> list[int]:
    """Count the runner's steps (each a look at the ledger)."""
    steps: list[int] = []
    step = runner.step

    def counting() -> bool:
        steps.append(1)
        return step()

    runner.step = counting  # type: ignore[method-assign]
    return steps


# The payload.


def test_the_payload_names_the_last_position_and_the_topics() -> None:
    assert parse_payload("42" + notify_payload(["b:B", "a:A", "b:B"])) == (
        42,
        frozenset({"a:A", "b:B"}),
    )
    assert parse_payload("42") == (42, None)  # topics unsaid: concerns every loop
    assert parse_payload("") == (None, None)  # an older writer's bare NOTIFY
    assert notify_payload(["x:" + "y" * 8000]) == ""  # would not fit: every loop wakes


def test_a_claim_passes_the_writes_that_are_not_its_own() -> None:
    claim = ListenerClaim.__new__(ListenerClaim)
    ListenerClaim.__init__(claim, None, "k", "c", None, frozenset({"a:A"}))  # type: ignore[arg-type]
    assert claim.notified(5, frozenset({"a:A"}))
    assert not claim.notified(7, frozenset({"b:B"}))
    assert not claim.passed(4, 7)  # its own write at 5 is not applied yet
    assert claim.passed(5, 7)
    assert not claim.passed(5, 8)  # 8 has not been notified
    assert claim.notified(9, None)  # topics unsaid: its own
    assert not claim.passed(7, 9)


@pytest.mark.parametrize("backend", ["postgres"])
def test_a_write_notifies_its_last_position_and_its_topics(
    saq: TenantRuntime, settings: Settings
) -> None:
    assert settings.database_url is not None
    with psycopg.connect(settings.database_url, autocommit=True) as conn:
        conn.execute(sql.SQL("LISTEN {}").format(sql.Identifier(saq.location.ledger_channel)))
        position = open_campaigns(saq.ledger, range(2001, 2002))
        notifies = conn.notifies(timeout=5, stop_after=1)
        received = list(notifies)
    assert [parse_payload(n.payload) for n in received] == [
        (position, frozenset({get_topic(Campaign.Opened)}))
    ]


# The runners.


@pytest.mark.parametrize("backend", ["postgres"])
def test_a_runner_is_not_woken_by_a_write_of_other_topics_and_has_still_passed_it(
    saq: TenantRuntime,
    make_runner: Callable[..., ProjectionRunner],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # A loaded machine may take more than the usual 20 ms to deliver a notification: the wait
    # must not nudge the runner (which would make it read) while the test counts its steps.
    monkeypatch.setattr("projections.runner.NOTIFY_GRACE", 3.0)
    runner = make_runner(OpenedOnly(), poll_interval=5.0)
    steps = counted_steps(runner)
    runner.start()
    opened = open_campaigns(saq.ledger, range(2001, 2003))
    assert runner.wait(opened, timeout=5)
    assert wait_until(lambda: runner._primed)
    time.sleep(0.2)
    before = len(steps)

    amended = amend(saq, 3)
    started = time.monotonic()
    assert runner.wait(amended, timeout=5)  # passed without a look at the ledger
    assert time.monotonic() - started < 1.0
    time.sleep(0.3)
    assert len(steps) == before  # not woken, not nudged
    assert len(rows(runner.db)) == 2

    later = open_campaigns(saq.ledger, range(2003, 2004))  # its own topic: woken
    assert runner.wait(later, timeout=5)
    assert len(steps) > before
    assert [p for p, _ in rows(runner.db)][-1] == later


def test_a_running_runner_passes_writes_of_other_topics(
    saq: TenantRuntime, make_runner: Callable[..., ProjectionRunner]
) -> None:
    runner = make_runner(OpenedOnly(), poll_interval=0.05).start()
    assert wait_until(lambda: runner.status().state == "active")
    opened = open_campaigns(saq.ledger, range(2001, 2003))
    assert runner.wait(opened, timeout=5)
    amended = amend(saq, 2)
    assert runner.wait(amended, timeout=5)
    later = open_campaigns(saq.ledger, range(2003, 2004))
    assert runner.wait(later, timeout=5)
    assert [p for p, _ in rows(runner.db)][-1] == later
    assert len(rows(runner.db)) == 3


def test_a_runner_run_elsewhere_has_passed_writes_of_other_topics_only(
    saq: TenantRuntime, make_runner: Callable[..., ProjectionRunner]
) -> None:
    worker = make_runner(OpenedOnly())  # the active one, as a worker runs it
    web = make_runner(OpenedOnly())  # never started: it only waits, as the web does
    opened = open_campaigns(saq.ledger, range(2001, 2003))
    worker.catch_up()
    amended = amend(saq, 2)
    worker.catch_up()  # passes the amendments without writing its position

    assert web.wait(amended, timeout=2)  # no event of its topics after its stored position
    later = open_campaigns(saq.ledger, range(2003, 2004))
    assert not web.wait(later, timeout=0.3)  # its own event, not yet applied
    worker.catch_up()
    assert web.wait(later, timeout=2)
    assert opened < amended < later
