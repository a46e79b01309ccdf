"""The projection runner through real storage, on SQLite and PostgreSQL."""

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable, Iterator
from functools import singledispatchmethod
from pathlib import Path
from uuid import UUID

import psycopg
import pytest
from eventsourcing.domain import DomainEventProtocol
from eventsourcing.utils import get_topic
from psycopg import sql

from aggregates.campaign import Campaign
from aggregates.ledger.application import AssociationLedger
from projections.rebuild import ShadowRebuild
from projections.runner import CannotApply, Projection, ProjectionRunner
from projections.store import TrackingConflict, Tx, ViewDatabase, open_view_database
from tenants.runtime import Platform, TenantRuntime
from tenants.settings import Settings
from tests.support import SECRETARY as SECRETARIAT
from tests.support import open_qc_campaign

pytestmark = pytest.mark.tenants("saq")


class EventLogProjection(Projection):
    """Test read model: one row per campaign event; a duplicate would break the primary key."""

    name = "event_log"
    topics = (get_topic(Campaign.Opened), get_topic(Campaign.RulesAmended))
    tables = ("event_log",)

    def __init__(self, fail_at: int | None = None) -> None:
        self.fail_at = fail_at

    def create_tables(self, tx: Tx) -> None:
        tx.execute(
            "CREATE TABLE IF NOT EXISTS {event_log} ("
            " position BIGINT PRIMARY KEY, topic TEXT NOT NULL, campaign_id TEXT NOT NULL)"
        )

    @singledispatchmethod
    def process(self, event: DomainEventProtocol[UUID], tx: Tx, position: int) -> None:
        if position == self.fail_at:
            self.fail_at = None  # fails once, like a crash in the middle of a batch
            raise RuntimeError(f"simulated crash at {position}")
        tx.execute(
            "INSERT INTO {event_log} (position, topic, campaign_id) VALUES (:p, :t, :c)",
            {"p": position, "t": get_topic(type(event)), "c": str(event.originator_id)},
        )


def rows(db: ViewDatabase) -> list[tuple[int, str]]:
    with db.transaction() as tx:
        return [
            (int(r[0]), r[1])
            for r in tx.execute("SELECT position, topic FROM {event_log} ORDER BY position")
        ]


def open_campaigns(ledger: AssociationLedger, years: range, amendments: int = 0) -> int:
    """Open a QC campaign per year (and amend its rules); returns the last position."""
    position = 0
    for year in years:
        saved = open_qc_campaign(ledger, year)
        position = saved.position or position
        for i in range(amendments):
            amended = ledger.amend_rules(
                saved.aggregate.id, {"members_max": 10 - i % 3}, "调整", SECRETARIAT
            )
            position = amended.position or position
    return position


@pytest.fixture
def saq(platform: Platform) -> TenantRuntime:
    return platform.tenants["saq"]


@pytest.fixture
def make_runner(saq: TenantRuntime) -> Iterator[Callable[..., ProjectionRunner]]:
    made: list[ProjectionRunner] = []

    def make(projection: Projection | None = None, **options: float) -> ProjectionRunner:
        db = open_view_database(saq.location, "event_log")
        runner = ProjectionRunner(
            projection or EventLogProjection(),
            saq.ledger,
            db,
            saq.location.ledger_channel,
            **options,
        )
        made.append(runner)
        return runner

    yield make
    for runner in made:
        runner.stop()
        runner.db.close()


def wait_until(condition: Callable[[], bool], timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.02)
    return condition()


def test_catch_up_applies_batches_with_their_tracking(
    saq: TenantRuntime, make_runner: Callable[..., ProjectionRunner]
) -> None:
    last = open_campaigns(saq.ledger, range(2001, 2013), amendments=2)  # 36 events
    runner = make_runner(batch_size=10)

    assert runner.catch_up_once()  # one batch of 10, not everything
    assert runner.status().position == 10
    assert runner.catch_up() == last
    assert [p for p, _ in rows(runner.db)] == list(range(1, last + 1))
    assert runner.status().lag == 0


def test_a_runner_stopped_in_the_middle_of_a_batch_resumes_with_every_event_exactly_once(
    saq: TenantRuntime, make_runner: Callable[..., ProjectionRunner]
) -> None:
    last = open_campaigns(saq.ledger, range(2001, 2011), amendments=1)  # 20 events
    crashing = make_runner(EventLogProjection(fail_at=15), batch_size=8)

    with pytest.raises(CannotApply, match="simulated crash"):
        crashing.catch_up()

    # The first batch (1-8) committed; the second (9-16) rolled back whole, tracking with it.
    assert [p for p, _ in rows(crashing.db)] == list(range(1, 9))
    restarted = make_runner(batch_size=8)
    assert restarted.catch_up() == last
    assert [p for p, _ in rows(restarted.db)] == list(range(1, last + 1))


def test_a_batch_applied_twice_cannot_commit(
    saq: TenantRuntime, make_runner: Callable[..., ProjectionRunner]
) -> None:
    open_campaigns(saq.ledger, range(2001, 2004))
    runner = make_runner()
    runner.catch_up()
    with pytest.raises(Exception, match="no longer 0"):  # a second runner still believing 0
        runner._apply([], 0, 3)
    assert len(rows(runner.db)) == 3


def test_a_batch_from_a_position_that_moved_writes_nothing(
    saq: TenantRuntime, make_runner: Callable[..., ProjectionRunner]
) -> None:
    first = open_campaigns(saq.ledger, range(2001, 2003))
    runner = make_runner()
    assert runner.catch_up() == first
    later = open_campaigns(saq.ledger, range(2003, 2004))
    events, new_position = runner.next_batch(first, later)
    runner._apply(events, first, new_position)
    with pytest.raises(TrackingConflict, match=f"no longer {first}"):  # a rival still at `first`
        runner._apply(events, first, new_position)
    assert len(rows(runner.db)) == 3


@pytest.mark.parametrize("backend", ["postgres"])
def test_a_pipelined_batch_fails_at_its_commit_when_the_position_moved(
    saq: TenantRuntime, make_runner: Callable[..., ProjectionRunner]
) -> None:
    # The batch does not wait for the compare-and-set's row count: the statement fails instead,
    # and everything queued after it is not applied.
    position = open_campaigns(saq.ledger, range(2001, 2003))
    runner = make_runner()
    runner.catch_up()
    moved = pytest.raises(psycopg.errors.InvalidTextRepresentation, match="tracking moved")
    with moved, runner.db.transaction(batch=True) as tx:
        tx.advance("event_log", saq.ledger.name, position - 1, position + 1)
        tx.execute(
            "INSERT INTO {event_log} (position, topic, campaign_id) VALUES (:p, 'x', 'y')",
            {"p": position + 1},
        )
    with runner.db.read() as tx:
        assert tx.position("event_log", saq.ledger.name) == position
    assert len(rows(runner.db)) == 2


def test_the_running_runner_follows_new_writes_and_reports_lag(
    saq: TenantRuntime, make_runner: Callable[..., ProjectionRunner]
) -> None:
    runner = make_runner(poll_interval=0.05).start()
    assert wait_until(lambda: runner.status().state == "active")
    position = open_campaigns(saq.ledger, range(2001, 2006))

    assert runner.wait(position, timeout=10)
    assert len(rows(runner.db)) == 5
    status = runner.status()
    assert (status.position, status.head, status.lag) == (position, position, 0)


def test_only_one_runner_is_active_and_the_standby_takes_over(
    saq: TenantRuntime, make_runner: Callable[..., ProjectionRunner]
) -> None:
    first = make_runner(poll_interval=0.05).start()
    assert wait_until(lambda: first.status().state == "active")
    second = make_runner(poll_interval=0.05).start()
    assert wait_until(lambda: second.status().state == "standby")

    position = open_campaigns(saq.ledger, range(2001, 2004))
    assert first.wait(position)
    first.stop()
    assert wait_until(lambda: second.status().state == "active")
    later = open_campaigns(saq.ledger, range(2004, 2007))

    assert second.wait(later)
    assert [p for p, _ in rows(second.db)] == list(range(1, later + 1))


def test_rebuild_from_zero_gives_the_same_rows(
    saq: TenantRuntime, make_runner: Callable[..., ProjectionRunner]
) -> None:
    open_campaigns(saq.ledger, range(2001, 2006), amendments=2)
    runner = make_runner()
    runner.catch_up()
    before = rows(runner.db)

    rebuilt = ShadowRebuild(runner.projection, saq.ledger, runner.db, runner.channel).run()

    assert rows(runner.db) == before
    assert (rebuilt.events, rebuilt.position) == (len(before), runner.catch_up())


def test_events_of_other_topics_still_advance_the_position(
    saq: TenantRuntime, make_runner: Callable[..., ProjectionRunner]
) -> None:
    class OpenedOnly(EventLogProjection):
        topics = (get_topic(Campaign.Opened),)

    last = open_campaigns(saq.ledger, range(2001, 2004), amendments=2)
    runner = make_runner(OpenedOnly())
    assert runner.catch_up() == last  # the trailing amendments are passed, not waited for
    assert len(rows(runner.db)) == 3


@pytest.mark.parametrize("backend", ["postgres"])
def test_a_dropped_listen_connection_is_recovered(
    saq: TenantRuntime, make_runner: Callable[..., ProjectionRunner], settings: Settings
) -> None:
    assert settings.database_url is not None
    runner = make_runner(poll_interval=5.0, max_backoff=0.2).start()  # long poll: it must LISTEN
    assert wait_until(lambda: runner.status().state == "active" and runner.listener_pid is not None)
    old_pid = runner.listener_pid

    with psycopg.connect(settings.database_url, autocommit=True) as admin:
        admin.execute("SELECT pg_terminate_backend(%s)", (old_pid,))
    assert wait_until(
        lambda: runner.listener_pid not in (None, old_pid) and runner.status().state == "active"
    )
    position = open_campaigns(saq.ledger, range(2001, 2003))

    assert runner.wait(position, timeout=3)  # woken by NOTIFY on the new connection
    assert len(rows(runner.db)) == 2


class RefusingProjection(EventLogProjection):
    """Cannot apply the event at `fail_at`, however often it is tried (a bug)."""

    @singledispatchmethod
    def process(self, event: DomainEventProtocol[UUID], tx: Tx, position: int) -> None:
        if position == self.fail_at:
            raise RuntimeError(f"cannot apply {position}")
        super().process(event, tx, position)


class NulProjection(EventLogProjection):
    """Writes a text holding a NUL for the event at `fail_at`: SQLite keeps it, PostgreSQL
    refuses it."""

    @singledispatchmethod
    def process(self, event: DomainEventProtocol[UUID], tx: Tx, position: int) -> None:
        tx.execute(
            "INSERT INTO {event_log} (position, topic, campaign_id) VALUES (:p, :t, :c)",
            {"p": position, "t": "x\x00y" if position == self.fail_at else "t", "c": "c"},
        )


def stages(tmp_path: Path) -> list[str]:
    return sorted(p.name for p in tmp_path.iterdir() if p.name.startswith("qcflow-stage-"))


@pytest.fixture
def scratch(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Where this test's stages are made (and must be gone from after)."""
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    return tmp_path


def test_a_long_history_from_position_zero_is_staged_and_copied_with_its_position(
    saq: TenantRuntime, make_runner: Callable[..., ProjectionRunner], scratch: Path, backend: str
) -> None:
    last = open_campaigns(saq.ledger, range(2001, 2013), amendments=2)  # 36 events
    runner = make_runner(batch_size=10, stage_over=20)

    assert runner.catch_up_once()
    assert not runner._unstaged
    if backend == "postgres":
        # Built in a stage (SQLite, in process) and copied in one transaction, in one step.
        assert runner.status().position == last
        assert runner.events_applied == last
    else:
        assert runner.status().position == 10  # SQLite has no stage: the first batch only
    assert runner.catch_up() == last
    assert [p for p, _ in rows(runner.db)] == list(range(1, last + 1))
    with runner.db.read() as tx:
        assert tx.position("event_log", saq.ledger.name) == last
    assert stages(scratch) == []  # the stage's file is gone

    later = open_campaigns(saq.ledger, range(2013, 2015))  # from here on, batches as ever
    assert runner.catch_up() == later
    assert [p for p, _ in rows(runner.db)] == list(range(1, later + 1))


@pytest.mark.parametrize("backend", ["postgres"])
def test_a_stage_that_meets_an_event_it_cannot_apply_gives_way_to_batches_that_halt_there(
    saq: TenantRuntime, make_runner: Callable[..., ProjectionRunner], scratch: Path
) -> None:
    open_campaigns(saq.ledger, range(2001, 2011), amendments=1)  # 20 events
    runner = make_runner(RefusingProjection(fail_at=15), batch_size=8, stage_over=5)

    with pytest.raises(CannotApply, match="cannot apply 15") as refused:
        runner.catch_up()

    # The stage was tried and gave way; as without one, the batch before the event's committed
    # and the event is named.
    assert runner._unstaged
    assert refused.value.position == 15
    assert [p for p, _ in rows(runner.db)] == list(range(1, 9))
    assert stages(scratch) == []


@pytest.mark.parametrize("backend", ["postgres"])
def test_a_stage_that_meets_an_event_that_does_not_read_gives_way_to_batches_that_halt_there(
    saq: TenantRuntime,
    make_runner: Callable[..., ProjectionRunner],
    scratch: Path,
    settings: Settings,
) -> None:
    """A stage decodes each event in the thread that applies it: one that does not decode
    sends the stage back to batches, as one that does not apply does."""
    assert settings.database_url is not None and saq.location.schema is not None
    open_campaigns(saq.ledger, range(2001, 2011), amendments=1)  # 20 events
    with psycopg.connect(settings.database_url, autocommit=True) as admin:
        admin.execute(
            sql.SQL("UPDATE {} SET state = %s WHERE notification_id = 15").format(
                sql.Identifier(saq.location.schema, f"{saq.ledger.name}_events")
            ),
            (b"{not json",),
        )
    runner = make_runner(batch_size=8, stage_over=5)

    with pytest.raises(CannotApply) as refused:
        runner.catch_up()

    assert runner._unstaged
    assert refused.value.position == 15
    assert [p for p, _ in rows(runner.db)] == list(range(1, 9))
    assert stages(scratch) == []


@pytest.mark.parametrize("backend", ["postgres"])
def test_rows_postgresql_refuses_send_the_stage_back_to_batches_that_halt_at_their_event(
    saq: TenantRuntime, make_runner: Callable[..., ProjectionRunner], scratch: Path
) -> None:
    open_campaigns(saq.ledger, range(2001, 2011), amendments=1)  # 20 events
    runner = make_runner(NulProjection(fail_at=12), batch_size=8, stage_over=5)

    with pytest.raises(CannotApply, match="event 12 ") as refused:
        runner.catch_up()  # the stage took the NUL; its COPY was refused, nothing written

    assert runner._unstaged
    assert isinstance(refused.value.__cause__, psycopg.errors.DataError)
    assert [p for p, _ in rows(runner.db)] == list(range(1, 9))
    assert stages(scratch) == []


class AwkwardTextProjection(Projection):
    """Rows holding what COPY's text format must escape, booleans, big numbers and NULLs."""

    name = "awkward"
    topics = (get_topic(Campaign.Opened), get_topic(Campaign.RulesAmended))
    tables = ("awkward",)
    TEXTS = ("制\t表", "两\n行", "回\r车", "反\\斜", "\\N", "\\.", "", " 空 ", None)

    def create_tables(self, tx: Tx) -> None:
        tx.execute(
            "CREATE TABLE IF NOT EXISTS {awkward} (position BIGINT PRIMARY KEY, text TEXT,"
            " flag BOOLEAN NOT NULL, big BIGINT NOT NULL, maybe INTEGER)"
        )

    @singledispatchmethod
    def process(self, event: DomainEventProtocol[UUID], tx: Tx, position: int) -> None:
        tx.execute(
            "INSERT INTO {awkward} (position, text, flag, big, maybe)"
            " VALUES (:p, :text, :flag, :big, :maybe)",
            {
                "p": position,
                "text": self.TEXTS[position % len(self.TEXTS)],
                "flag": position % 2 == 0,
                "big": 2**62 + position,
                "maybe": None if position % 3 else -position,
            },
        )
        if position % 4 == 0:
            tx.execute("UPDATE {awkward} SET flag = NOT flag WHERE position = :p", {"p": position})


@pytest.mark.parametrize("backend", ["postgres"])
def test_a_staged_read_model_holds_the_values_batches_write(
    saq: TenantRuntime, make_runner: Callable[..., ProjectionRunner], scratch: Path
) -> None:
    last = open_campaigns(saq.ledger, range(2001, 2011), amendments=1)  # 20 events
    runner = make_runner(AwkwardTextProjection(), stage_over=5, batch_size=8)
    assert runner.catch_up_once()
    assert runner.status().position == last and not runner._unstaged  # staged and copied
    query = "SELECT position, text, flag, big, maybe FROM {awkward} ORDER BY position"
    with runner.db.transaction() as tx:
        staged = tx.execute(query)
        tx.execute("DELETE FROM {awkward}")
    batches = AwkwardTextProjection()
    with runner.db.transaction() as tx:
        for n in saq.ledger.recorder.select_notifications(1, last):
            batches.process(saq.ledger.mapper.to_domain_event(n), tx, n.id)
        written = tx.execute(query)
        tx.execute("DELETE FROM {awkward}")

    assert staged == written
    texts = AwkwardTextProjection.TEXTS
    assert [row[1] for row in staged] == [texts[p % len(texts)] for p in range(1, last + 1)]
    assert [row[2] for row in staged] == [(p % 2 == 0) != (p % 4 == 0) for p in range(1, last + 1)]


@pytest.mark.parametrize("backend", ["postgres"])
def test_without_room_for_a_stage_batches_build_the_read_model(
    saq: TenantRuntime,
    make_runner: Callable[..., ProjectionRunner],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "gone"))  # no such directory
    last = open_campaigns(saq.ledger, range(2001, 2011), amendments=1)  # 20 events
    runner = make_runner(batch_size=8, stage_over=5)

    assert runner.catch_up_once()
    assert runner._unstaged and runner.status().position == 8  # the first batch, no stage
    assert runner.catch_up() == last
    assert [p for p, _ in rows(runner.db)] == list(range(1, last + 1))
