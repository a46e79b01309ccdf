"""Each tenant's ledger: isolated stores, the msgspec transcoder, snapshots, concurrency."""

from __future__ import annotations

from datetime import date

import psycopg
import pytest
from eventsourcing.persistence import IntegrityError, Notification
from eventsourcing.postgres import PostgresApplicationRecorder
from eventsourcing.utils import get_topic

from aggregates.campaign import (
    Campaign,
    CampaignNotFound,
)
from aggregates.ledger.application import AssociationLedger
from aggregates.problems import VersionConflict
from tenants.runtime import Platform
from tenants.settings import Settings
from tenants.transcoder import MsgspecTranscoder
from tests.support import SECRETARY as SECRETARIAT
from tests.support import beijing, open_qc_campaign


def open_campaign(ledger: AssociationLedger, year: int = 2024) -> Campaign:
    return open_qc_campaign(ledger, year).aggregate


def test_a_campaign_of_saq_is_not_in_the_store_of_sdaq(platform: Platform) -> None:
    saq, sdaq = platform.tenants["saq"].ledger, platform.tenants["sdaq"].ledger
    campaign = open_campaign(saq)

    assert saq.get_campaign(campaign.id).title == "2024年质量管理小组活动"
    with pytest.raises(CampaignNotFound):
        sdaq.get_campaign(campaign.id)
    assert sdaq.recorder.max_notification_id() is None
    assert len(saq.recorder.select_notifications(start=1, limit=10)) == 1


@pytest.mark.parametrize("backend", ["postgres"])
def test_on_postgresql_each_tenant_has_its_own_schema(
    platform: Platform, settings: Settings
) -> None:
    assert settings.database_url is not None
    open_campaign(platform.tenants["saq"].ledger)
    with psycopg.connect(settings.database_url) as conn:
        tables = conn.execute(
            "SELECT table_schema, count(*) FROM information_schema.tables"
            " WHERE table_name = 'ledger_events' GROUP BY table_schema ORDER BY table_schema"
        ).fetchall()
        counts = {
            schema: conn.execute(f'SELECT count(*) FROM "{schema}".ledger_events').fetchone()[0]
            for schema, _ in tables
        }
    assert [schema for schema, _ in tables] == ["t_caq", "t_cmiqa", "t_saq", "t_sdaq"]
    assert counts == {"t_caq": 0, "t_cmiqa": 0, "t_saq": 1, "t_sdaq": 0}


@pytest.mark.parametrize("backend", ["postgres"])
def test_the_log_reads_as_the_library_reads_it(platform: Platform) -> None:
    """Our read of the log (tuples, no dataclass init) against the library's, for every way a
    runner, a follower or a test pages through it."""
    ledger = platform.tenants["saq"].ledger
    for year in range(2001, 2005):
        campaign = open_campaign(ledger, year)
        ledger.amend_rules(campaign.id, {"members_max": 9}, "调整", SECRETARIAT)
    opened = [get_topic(Campaign.Opened)]
    for args, kwargs in [
        ((1, 100), {}),
        ((3, 2), {}),
        ((2, 100), {"stop": 6}),
        ((2, 100), {"topics": opened}),
        ((2, 2), {"stop": 7, "topics": tuple(opened)}),
        ((4, 100), {"inclusive_of_start": False}),
        ((None, 3), {}),
        ((9, 100), {"topics": [get_topic(Campaign.Archived)]}),
    ]:
        ours = ledger.recorder.select_notifications(*args, **kwargs)
        library = PostgresApplicationRecorder.select_notifications(ledger.recorder, *args, **kwargs)
        assert ours == library, (args, kwargs)
        assert all(type(n) is Notification and type(n.state) is bytes for n in ours)
    assert len(ledger.recorder.select_notifications(1, 100)) == 8


def test_events_are_stored_through_the_msgspec_transcoder(platform: Platform) -> None:
    ledger = platform.tenants["saq"].ledger
    open_campaign(ledger)
    stored = ledger.recorder.select_notifications(start=1, limit=1)[0]

    assert isinstance(ledger.mapper.transcoder, MsgspecTranscoder)
    assert b'"_type_":"date_iso"' in stored.state
    assert b'"_type_":"enum"' in stored.state
    assert "上海市总工会".encode() in stored.state


def test_a_campaign_loads_the_same_through_its_snapshot(platform: Platform) -> None:
    ledger = platform.tenants["saq"].ledger
    campaign = open_campaign(ledger)
    for i in range(60):  # the ledger snapshots campaigns every 50 versions
        ledger.amend_rules(campaign.id, {"members_max": 5 + i % 5}, "调整", SECRETARIAT)

    assert ledger.snapshots is not None
    snapshots = list(ledger.snapshots.get(campaign.id))
    loaded = ledger.get_campaign(campaign.id)
    replayed = ledger.get_campaign(campaign.id, version=61)

    assert [s.originator_version for s in snapshots] == [50]
    assert loaded.version == 61
    assert loaded.rules == replayed.rules
    assert loaded.rules.members_max == 5 + 59 % 5
    assert loaded.timeline == replayed.timeline
    assert (loaded.period_start, loaded.contact) == (date(2023, 1, 1), replayed.contact)


def test_two_writers_of_one_version_cannot_both_win(platform: Platform) -> None:
    ledger = platform.tenants["saq"].ledger
    campaign = open_campaign(ledger)
    first, second = ledger.get_campaign(campaign.id), ledger.get_campaign(campaign.id)
    first.amend_rules({"members_max": 8}, "甲", beijing(2023, 12, 1), SECRETARIAT)
    second.amend_rules({"members_max": 9}, "乙", beijing(2023, 12, 1), SECRETARIAT)

    ledger.save(first)
    with pytest.raises(IntegrityError):
        ledger.save(second)
    assert ledger.get_campaign(campaign.id).rules.members_max == 8
    with pytest.raises(VersionConflict):
        ledger.amend_rules(campaign.id, {"members_max": 7}, "丙", SECRETARIAT, expected_version=1)
