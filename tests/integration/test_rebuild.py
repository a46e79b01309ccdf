"""Rebuilding read models from zero while the platform serves (shadow tables swapped in), on
SQLite and PostgreSQL, with the real read models."""

from __future__ import annotations

import json
import subprocess
import threading
import time
from collections.abc import Iterator
from datetime import date
from typing import Any
from uuid import UUID, uuid4

import psycopg
import pytest
from eventsourcing.domain import DomainEventProtocol
from eventsourcing.persistence import StoredEvent
from eventsourcing.utils import get_topic

from aggregates.actor import Actor, Role
from aggregates.campaign import Campaign
from aggregates.expert import Certificate, ExpertProfile
from aggregates.ledger.application import AssociationLedger
from aggregates.submission_forms import QcResultForm
from projections.campaign_list import CampaignListProjection, list_campaigns
from projections.campaign_statistics import CampaignStatisticsProjection
from projections.rebuild import SHADOW, ShadowRebuild, ShadowTx
from projections.runner import STORE_ERRORS, Projection, ProjectionRunner
from projections.service import TenantViews
from projections.store import TrackingConflict, Tx, ViewDatabase, open_view_database
from projections.submission_list import SubmissionListProjection
from tenants.runtime import Platform, TenantRuntime
from tenants.settings import Settings
from tests.support import SECRETARY, open_qc_campaign, run_command

pytestmark = pytest.mark.tenants("saq")

APPLICANT = Actor("unit-001", Role.APPLICANT_UNIT)


def expert(year: int, work_unit: str) -> ExpertProfile:
    certificate = Certificate(
        "上海市 QC 小组评审员", f"QC-{year}", "上海市质量协会", "省级", date(2030, 1, 1)
    )
    return ExpertProfile(f"专家{year}", work_unit, None, "13800000000", certificate)


def write_year(ledger: AssociationLedger, year: int) -> int:
    """Events of every kind the read models read: a campaign and its amendment, two drafted
    submissions, an expert enrolled and changed. Returns the last position."""
    campaign = open_qc_campaign(ledger, year).aggregate
    ledger.amend_rules(campaign.id, {"members_max": 9}, "调整", SECRETARY)
    for group in ("甲", "乙"):
        ledger.draft_submission(
            campaign_id=campaign.id,
            credit_code="91100000100003962T",
            applicant={"unit_name": "中国工商银行股份有限公司"},
            recommending_unit="direct",
            form=QcResultForm(group_name=f"{year}{group}组"),
            actor=APPLICANT,
        )
    ledger.enrol_expert(expert(year, "宝钢"), SECRETARY)
    ledger.change_expert(f"QC-{year}", expert(year, "上汽"), SECRETARY)
    return ledger.recorder.max_notification_id() or 0


class Writer(threading.Thread):
    """Writes one year after another through the ledger until stopped."""

    def __init__(self, ledger: AssociationLedger, first_year: int) -> None:
        super().__init__(daemon=True)
        self.ledger, self.year, self.written = ledger, first_year, 0
        self.stopping = threading.Event()
        self.progress = threading.Condition()
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            while not self.stopping.is_set() and self.year <= 2100:
                write_year(self.ledger, self.year)
                with self.progress:
                    self.year, self.written = self.year + 1, self.written + 1
                    self.progress.notify_all()
                time.sleep(0.005)
        except BaseException as e:
            self.error = e

    def wait_for_another_year(self) -> None:
        """Until a year more than now is written: a rebuild is fast enough to end between two
        of them, so the test makes sure writes land in the middle of one."""
        with self.progress:
            target = self.written + 1
            assert self.progress.wait_for(lambda: self.written >= target, timeout=30)

    def stop(self) -> None:
        self.stopping.set()
        self.join(30)
        if self.error is not None:
            raise self.error


@pytest.fixture
def saq(platform: Platform) -> TenantRuntime:
    return platform.tenants["saq"]


@pytest.fixture
def views(saq: TenantRuntime) -> Iterator[TenantViews]:
    views = TenantViews(saq, poll_interval=0.05)
    yield views
    views.close()


def rebuild_of(runner: ProjectionRunner, **options: int) -> ShadowRebuild:
    return ShadowRebuild(runner.projection, runner.ledger, runner.db, runner.channel, **options)


def dump(runner: ProjectionRunner) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table of the read model, in a stable order."""
    with runner.db.transaction() as tx:
        return {
            table: sorted(tx.execute(f"SELECT * FROM {{{table}}}"), key=repr)
            for table in runner.projection.tables
        }


def exists(db: ViewDatabase, table: str) -> bool:
    try:
        with db.transaction() as tx:
            tx.execute(f"SELECT 1 FROM {{{table}}} LIMIT 1")
    except STORE_ERRORS:
        return False
    return True


def shadow_rows(db: ViewDatabase) -> list[tuple[Any, ...]]:
    with db.transaction() as tx:
        return tx.execute(
            "SELECT projection FROM {projection_tracking} WHERE projection LIKE :shadow",
            {"shadow": f"%{SHADOW}"},
        )


def test_a_rebuild_while_writes_go_on_ends_equal_to_a_rebuild_from_rest(
    saq: TenantRuntime, views: TenantViews
) -> None:
    for year in range(2001, 2006):
        write_year(saq.ledger, year)
    views.start()
    writer = Writer(saq.ledger, 2006)
    writer.start()
    swapped_at = []
    try:
        for runner in views.runners.values():
            rebuild = rebuild_of(runner, batch_size=7)
            rebuild.start()
            rebuild.catch_up_once()  # the shadow is half built ...
            writer.wait_for_another_year()  # ... when writes land
            rebuild.catch_up()
            swapped_at.append(rebuild.swap())
        written_during = writer.written
    finally:
        writer.stop()
    head = saq.ledger.recorder.max_notification_id() or 0
    assert views.wait(head, timeout=30)
    served = {name: dump(runner) for name, runner in views.runners.items()}

    for runner in views.runners.values():
        rebuild_of(runner).run()  # from rest: nothing is written meanwhile
    at_rest = {name: dump(runner) for name, runner in views.runners.items()}

    assert written_during >= len(views.runners)  # a year at least during each rebuild
    assert any(position < head for position in swapped_at)
    for name in views.runners:
        assert served[name] == at_rest[name], name
    years = 5 + writer.written
    assert len(served["campaign_list"]["campaign_list"]) == years
    assert len(served["submission_list"]["submission_list"]) == 2 * years
    assert len(served["review_board"]["expert_pool"]) == years
    for runner in views.runners.values():
        assert shadow_rows(runner.db) == []
        assert not any(exists(runner.db, f"{t}{SHADOW}") for t in runner.projection.tables)


@pytest.mark.parametrize("backend", ["postgres"])
def test_a_rebuild_staged_in_process_equals_one_made_batch_by_batch(
    saq: TenantRuntime, views: TenantViews
) -> None:
    """Every read model built in a stage (SQLite in process, the same SQL) and copied into
    PostgreSQL, while writes go on, holds the rows the batches write there."""
    for year in range(2001, 2006):
        write_year(saq.ledger, year)
    views.start()
    writer = Writer(saq.ledger, 2006)
    writer.start()
    try:
        for runner in views.runners.values():
            rebuild = rebuild_of(runner)
            rebuild.start()
            rebuild.runner.stage_over = 0
            before = saq.ledger.recorder.max_notification_id() or 0
            assert rebuild.catch_up_once()  # staged: from 0 to the head it read, in one step
            assert rebuild.runner.status().position >= before
            assert not rebuild.runner._unstaged  # not given back to batches (on PostgreSQL)
            assert rebuild.runner.projection.reads == runner.projection.reads
            writer.wait_for_another_year()  # writes land before the swap: batches take them
            rebuild.catch_up()
            rebuild.swap()
    finally:
        writer.stop()
    head = saq.ledger.recorder.max_notification_id() or 0
    assert views.wait(head, timeout=30)
    staged = {name: dump(runner) for name, runner in views.runners.items()}

    for runner in views.runners.values():
        rebuild = rebuild_of(runner)
        rebuild.start()
        rebuild.runner.stage_over = head  # no stage: batch by batch
        rebuild.catch_up()
        rebuild.swap()
    batched = {name: dump(runner) for name, runner in views.runners.items()}

    assert staged == batched
    years = 5 + writer.written
    assert len(staged["submission_list"]["submission_list"]) == 2 * years
    assert len(staged["review_board"]["expert_pool"]) == years


def test_readers_see_the_live_rows_until_the_swap_which_applies_the_last_events(
    saq: TenantRuntime, views: TenantViews
) -> None:
    for year in range(2001, 2011):
        write_year(saq.ledger, year)
    live = views.runners["campaign_list"]
    live.catch_up()
    before = list_campaigns(live.db)
    assert len(before) == 10

    rebuild = rebuild_of(live, batch_size=5)
    rebuild.start()
    rebuild.catch_up_once()
    assert list_campaigns(live.db) == before  # the live read model is whole mid-rebuild
    with live.db.transaction() as tx:
        shadow = tx.execute(f"SELECT campaign_id FROM {{campaign_list{SHADOW}}}")
    assert 0 < len(shadow) < 10  # while the shadow is partial
    rebuild.catch_up()
    assert list_campaigns(live.db) == before
    head = write_year(saq.ledger, 2011)  # after the catch-up: the swap applies it
    assert rebuild.swap() == head

    after = list_campaigns(live.db)
    assert after[1:] == before and after[0].year == 2011
    assert live.status().position == head
    assert not exists(live.db, f"campaign_list{SHADOW}")


def test_an_interrupted_rebuild_is_dropped_and_started_over(
    saq: TenantRuntime, views: TenantViews
) -> None:
    for year in range(2001, 2009):
        write_year(saq.ledger, year)
    live = views.runners["campaign_list"]
    live.catch_up()
    before = dump(live)
    interrupted = rebuild_of(live, batch_size=3)
    interrupted.start()
    interrupted.catch_up_once()  # then the process died
    with live.db.transaction() as tx:  # and left rows the ledger never had
        tx.execute(f"UPDATE {{campaign_list{SHADOW}}} SET title = 'stale'")
    assert shadow_rows(live.db) == [(f"campaign_list{SHADOW}",)]
    assert exists(live.db, f"campaign_list{SHADOW}")

    done = rebuild_of(live).run()

    assert dump(live) == before
    assert done.events == len(before["campaign_list"]) + 8  # openings and amendments
    assert shadow_rows(live.db) == []
    assert not exists(live.db, f"campaign_list{SHADOW}")


def test_a_live_batch_read_before_the_swap_cannot_commit_after_it(
    saq: TenantRuntime, views: TenantViews
) -> None:
    for year in range(2001, 2004):
        write_year(saq.ledger, year)
    live = views.runners["campaign_list"]
    position = live.catch_up()
    head = write_year(saq.ledger, 2004)
    events, new_position = live.next_batch(position, head)  # a runner about to apply these

    assert rebuild_of(live).run().position == head
    with pytest.raises(TrackingConflict):
        live._apply(events, position, new_position)  # stale: rolled back whole

    assert [c.year for c in list_campaigns(live.db)] == [2004, 2003, 2002, 2001]
    assert live.catch_up() == head


def test_the_swap_waits_for_a_batch_in_flight_and_keeps_it(
    saq: TenantRuntime, views: TenantViews
) -> None:
    for year in range(2001, 2004):
        write_year(saq.ledger, year)
    live = views.runners["campaign_list"]
    live.catch_up()
    head = write_year(saq.ledger, 2004)
    rebuild = rebuild_of(live)
    rebuild.start()
    rebuild.catch_up()
    entered, release = threading.Event(), threading.Event()

    class Paused(CampaignListProjection):
        def process(self, event: DomainEventProtocol[UUID], tx: Tx, position: int) -> None:
            super().process(event, tx, position)
            # Pipelined, the batch's statements go out without waiting for their answers: one
            # waited for here, so the batch is known to hold its tracking row before it pauses
            # (a batch whose compare-and-set the server had not yet run lost to the swap under
            # load, and was refused: test_a_live_batch_read_before_the_swap_cannot_commit_after_it).
            tx.rowcount()
            entered.set()
            release.wait(10)

    other = open_view_database(saq.location, "campaign_list")  # another process's runner
    runner = ProjectionRunner(Paused(), saq.ledger, other, saq.location.ledger_channel)
    batch = threading.Thread(target=runner.catch_up_once)
    batch.start()
    assert entered.wait(10)
    swapped: list[int] = []
    swap = threading.Thread(target=lambda: swapped.append(rebuild.swap()))
    swap.start()
    time.sleep(0.5)
    try:
        assert not swapped  # held back by the batch's transaction
    finally:
        release.set()
        batch.join(10)
        swap.join(30)
        other.close()

    assert swapped == [head]
    assert runner.events_applied == 2  # the batch committed (2004 opened and amended)
    assert [c.year for c in list_campaigns(live.db)] == [2004, 2003, 2002, 2001]
    assert live.catch_up() == head


class IndexedLog(Projection):
    """Test read model with an index of its own, named after its table."""

    name = "indexed_log"
    topics = (get_topic(Campaign.Opened),)
    tables = ("indexed_log",)

    def create_tables(self, tx: Tx) -> None:
        tx.execute(
            "CREATE TABLE IF NOT EXISTS {indexed_log} ("
            " position BIGINT PRIMARY KEY, campaign_id TEXT NOT NULL)"
        )
        tx.execute(
            "CREATE INDEX IF NOT EXISTS {indexed_log.by_campaign} ON {indexed_log} (campaign_id)"
        )

    def process(self, event: DomainEventProtocol[UUID], tx: Tx, position: int) -> None:
        tx.execute(
            "INSERT INTO {indexed_log} (position, campaign_id) VALUES (:p, :c)",
            {"p": position, "c": str(event.originator_id)},
        )


def test_indexes_follow_their_table_so_that_a_rebuild_can_follow_a_rebuild(
    saq: TenantRuntime,
) -> None:
    db = open_view_database(saq.location, "indexed_log")
    runner = ProjectionRunner(IndexedLog(), saq.ledger, db, saq.location.ledger_channel)
    try:
        for year in range(2001, 2004):
            open_qc_campaign(saq.ledger, year)
        runner.catch_up()
        before = dump(runner)
        for _ in range(2):
            rebuild_of(runner).run()
            with db.transaction() as tx:
                names = tx._indexes("indexed_log")
                with pytest.raises(ValueError, match="name an index after its table"):
                    ShadowTx(tx, ("indexed_log",)).execute(
                        "CREATE INDEX by_campaign ON {indexed_log} (campaign_id)"
                    )
            assert "indexed_log_by_campaign" in names
            assert not any(SHADOW in name for name in names)
            assert dump(runner) == before
    finally:
        db.close()


@pytest.mark.parametrize(
    ("projection", "table", "index"),
    [
        (CampaignStatisticsProjection, "stat_entries", "stat_entries_campaign"),
        (SubmissionListProjection, "submission_list", "submission_list_recommendation"),
    ],
)
def test_an_index_added_later_is_made_on_start_and_kept_by_a_rebuild(
    saq: TenantRuntime, projection: type[Projection], table: str, index: str
) -> None:
    """A store made before the index (dropped here) gets it when a runner starts on it; a
    rebuild keeps it under its own name. (Without them, a statistics entry's or a form's rows
    were found by scanning the whole table: a rebuild went quadratic.)"""
    db = open_view_database(saq.location, projection.name)

    def runner() -> ProjectionRunner:
        return ProjectionRunner(projection(), saq.ledger, db, saq.location.ledger_channel)

    def indexes() -> list[str]:
        with db.transaction() as tx:
            return tx._indexes(table)

    try:
        open_qc_campaign(saq.ledger, 2001)
        runner().catch_up()
        assert index in indexes()
        with db.transaction() as tx:
            schema = getattr(tx, "_schema", None)  # PostgreSQL: the tenant's schema
            where = f'"{schema}".' if schema else ""
            tx.execute(f'DROP INDEX {where}"{index}"')
        assert index not in indexes()  # as a store made before it
        started = runner()
        assert index in indexes()
        rebuild_of(started).run()
        assert index in indexes()
        assert not any(SHADOW in name for name in indexes())
    finally:
        db.close()


@pytest.mark.parametrize("backend", ["postgres"])
def test_a_swap_gives_way_to_a_long_reader_then_completes(
    saq: TenantRuntime, views: TenantViews, settings: Settings
) -> None:
    assert settings.database_url is not None
    for year in range(2001, 2004):
        write_year(saq.ledger, year)
    live = views.runners["campaign_list"]
    live.catch_up()
    before = list_campaigns(live.db)
    rebuild = rebuild_of(live)
    rebuild.start()
    rebuild.catch_up()
    swapped: list[int] = []
    with psycopg.connect(settings.database_url) as reader:
        reader.execute(f'SELECT count(*) FROM "{saq.location.schema}"."campaign_list"')
        swap = threading.Thread(target=lambda: swapped.append(rebuild.swap()))
        swap.start()
        time.sleep(1.5)
        assert not swapped  # the reader's transaction still holds the table
        assert list_campaigns(live.db) == before  # and other readers are not stuck behind it
        reader.rollback()
    swap.join(30)

    assert swapped and list_campaigns(live.db) == before


def qcflow(settings: Settings, *args: str) -> subprocess.CompletedProcess[str]:
    env = {
        "QCFLOW_DATA_DIR": str(settings.data_dir),
        "QCFLOW_LOG_FORMAT": "json",
        **({"QCFLOW_DATABASE_URL": settings.database_url} if settings.database_url else {}),
    }
    return run_command(["projections", "rebuild", *args], env)


@pytest.mark.tenants("caq", "cmiqa", "saq", "sdaq")
def test_the_command_line_rebuilds_every_read_model_of_every_tenant(
    platform: Platform, settings: Settings
) -> None:
    every = {code: TenantViews(runtime) for code, runtime in platform.tenants.items()}
    try:
        for year in range(2001, 2004):
            write_year(platform.tenants["saq"].ledger, year)
        open_qc_campaign(platform.tenants["sdaq"].ledger, 2001)
        before = {}
        for code, views in every.items():
            for name, runner in views.runners.items():
                runner.catch_up()
                before[code, name] = dump(runner)

        done = qcflow(settings, "--all")
        together = qcflow(settings, "--all", "--jobs", "3")
        one = qcflow(settings, "--tenant", "saq", "campaign_list")
        bad = [
            qcflow(settings),
            qcflow(settings, "campaign_list"),
            qcflow(settings, "--all", "--tenant", "nowhere"),
            qcflow(settings, "--tenant", "saq", "no_such_view"),
            *(qcflow(settings, "--all", "--jobs", jobs) for jobs in ("0", "two", "33")),
        ]

        for rebuilt in (done, together):
            assert rebuilt.returncode == 0, rebuilt.stderr
            pairs = [tuple(line.split("\t")[:2]) for line in rebuilt.stdout.splitlines()]
            assert sorted(pairs) == sorted(before)  # each once
            assert "events" in rebuilt.stdout and "projection_rebuilt" in rebuilt.stderr
        # Rebuilt in the jobs' processes, each log line naming its job (how many each took
        # depends on how soon each process was up: a small history is rebuilt in moments).
        jobs = [
            json.loads(line).get("rebuild_job")
            for line in together.stderr.splitlines()
            if '"projection_rebuilt"' in line
        ]
        assert len(jobs) == len(before) and set(jobs) <= {"rebuild-0", "rebuild-1", "rebuild-2"}
        assert one.returncode == 0 and one.stdout.startswith(
            "saq\tcampaign_list\trebuilt: 6 events"
        )
        for (code, name), rows in before.items():
            runner = every[code].runners[name]
            assert dump(runner) == rows, (code, name)
            assert runner.status().position == (runner.ledger.recorder.max_notification_id() or 0)
        assert len(before[("saq", "campaign_list")]["campaign_list"]) == 3
        assert all(b.returncode == 2 and b.stderr.startswith("qcflow: ") for b in bad), bad
    finally:
        for views in every.values():
            views.close()


@pytest.mark.tenants("saq")
def test_a_rebuild_in_processes_stops_at_an_event_it_cannot_apply_and_says_which(
    platform: Platform, settings: Settings
) -> None:
    ledger = platform.tenants["saq"].ledger
    open_qc_campaign(ledger, 2001)
    opened = ledger.recorder.select_notifications(start=1, limit=1)[0]
    ledger.recorder.insert_events([StoredEvent(uuid4(), 1, opened.topic, b'{"not": json')])
    broken = ledger.recorder.max_notification_id()

    failed = qcflow(settings, "--all", "--jobs", "2")

    assert failed.returncode == 1, failed.stderr
    refusals = [  # the first line says which store the command works on
        line
        for line in failed.stderr.splitlines()
        if line.startswith("qcflow: ") and not line.startswith("qcflow: store: ")
    ]
    assert refusals and all(
        f"event {broken} ({opened.topic}) cannot be applied" in r for r in refusals
    )
    assert "Traceback" not in failed.stderr
