"""Reported statistics (统计表): each recommending unit's latest table per campaign, as filed (or,
in the national tenant, as a member association forwarded it), for the roll-ups."""

from __future__ import annotations

from functools import singledispatchmethod
from uuid import UUID

import msgspec
from eventsourcing.domain import DomainEventProtocol
from eventsourcing.utils import get_topic

from aggregates.campaign import Campaign, Programme
from aggregates.statistics_table import StatisticsForm, StatisticsTable, form_from_state
from projections.runner import Projection
from projections.store import Tx, ViewDatabase


class ReportedStatisticsProjection(Projection):
    name = "reported_statistics"
    topics = (
        get_topic(StatisticsTable.Recorded),
        get_topic(StatisticsTable.Revised),
        get_topic(Campaign.RehearsalDeleted),
    )
    tables = ("reported_tables",)

    def create_tables(self, tx: Tx) -> None:
        tx.execute(
            "CREATE TABLE IF NOT EXISTS {reported_tables} ("
            " table_id TEXT PRIMARY KEY, campaign_id TEXT NOT NULL, unit TEXT NOT NULL,"
            " programme TEXT NOT NULL, form TEXT NOT NULL, version INTEGER NOT NULL)"
        )

    @singledispatchmethod
    def process(self, event: DomainEventProtocol[UUID], tx: Tx, position: int) -> None:
        """Events of no interest change nothing."""

    @process.register
    def _recorded(self, event: StatisticsTable.Recorded, tx: Tx, position: int) -> None:
        tx.execute(
            "INSERT INTO {reported_tables} (table_id, campaign_id, unit, programme, form, version)"
            " VALUES (:id, :campaign, :unit, :programme, :form, :version)",
            {
                "id": str(event.originator_id),
                "campaign": str(event.campaign_id),
                "unit": event.unit,
                "programme": event.programme.value,
                "form": msgspec.json.encode(event.form).decode(),
                "version": event.originator_version,
            },
        )

    @process.register
    def _rehearsal_deleted(self, event: Campaign.RehearsalDeleted, tx: Tx, position: int) -> None:
        tx.execute(
            "DELETE FROM {reported_tables} WHERE campaign_id = :id",
            {"id": str(event.originator_id)},
        )

    @process.register
    def _revised(self, event: StatisticsTable.Revised, tx: Tx, position: int) -> None:
        tx.execute(
            "UPDATE {reported_tables} SET form = :form, version = :version WHERE table_id = :id",
            {
                "id": str(event.originator_id),
                "form": msgspec.json.encode(event.form).decode(),
                "version": event.originator_version,
            },
        )


def reported_tables(db: ViewDatabase, campaign_id: UUID) -> dict[str, StatisticsForm]:
    """Each unit's latest table of the campaign, by unit code."""
    with db.transaction() as tx:
        rows = tx.execute(
            "SELECT unit, programme, form FROM {reported_tables} WHERE campaign_id = :campaign",
            {"campaign": str(campaign_id)},
        )
    return {
        unit: form_from_state(Programme(programme), msgspec.json.decode(form))
        for unit, programme, form in rows
    }
