"""The campaign desk's read model (秘书处工作台): which accounts hold the recommending-unit role of
which unit (whom the desk mails when a unit is late), and which units have written their work
summary (工作总结) of which campaign — so the desk reads both in one query each, not one aggregate
per unit.

An index: the Account aggregate decides whether an account is active and still holds the role;
readers load the accounts they mail.
"""

from __future__ import annotations

from functools import singledispatchmethod
from uuid import UUID

import msgspec
from eventsourcing.domain import DomainEventProtocol
from eventsourcing.utils import get_topic

from aggregates.account import Account
from aggregates.actor import Role
from aggregates.work_summary import WorkSummary
from projections.runner import Projection
from projections.store import Tx, ViewDatabase, select


class CampaignDeskProjection(Projection):
    name = "campaign_desk"
    topics = (
        get_topic(Account.RoleGranted),
        get_topic(Account.RoleRevoked),
        get_topic(WorkSummary.Written),
    )
    tables = ("desk_unit_accounts", "desk_work_summaries")

    def create_tables(self, tx: Tx) -> None:
        tx.execute(
            "CREATE TABLE IF NOT EXISTS {desk_unit_accounts} ("
            " account_id TEXT NOT NULL, unit TEXT NOT NULL, position BIGINT NOT NULL,"
            " PRIMARY KEY (account_id, unit))"
        )
        tx.execute(
            "CREATE TABLE IF NOT EXISTS {desk_work_summaries} ("
            " campaign_id TEXT NOT NULL, unit TEXT NOT NULL, PRIMARY KEY (campaign_id, unit))"
        )

    @singledispatchmethod
    def process(self, event: DomainEventProtocol[UUID], tx: Tx, position: int) -> None:
        """Events of no interest change nothing."""

    @process.register
    def _granted(self, event: Account.RoleGranted, tx: Tx, position: int) -> None:
        if event.role is not Role.RECOMMENDING_UNIT or not event.scope:
            return
        tx.execute(
            "INSERT INTO {desk_unit_accounts} (account_id, unit, position)"
            " VALUES (:id, :unit, :position) ON CONFLICT DO NOTHING",
            {"id": str(event.originator_id), "unit": event.scope, "position": position},
        )

    @process.register
    def _revoked(self, event: Account.RoleRevoked, tx: Tx, position: int) -> None:
        if event.role is Role.RECOMMENDING_UNIT and event.scope:
            tx.execute(
                "DELETE FROM {desk_unit_accounts} WHERE account_id = :id AND unit = :unit",
                {"id": str(event.originator_id), "unit": event.scope},
            )

    @process.register
    def _summary(self, event: WorkSummary.Written, tx: Tx, position: int) -> None:
        tx.execute(
            "INSERT INTO {desk_work_summaries} (campaign_id, unit) VALUES (:campaign, :unit)"
            " ON CONFLICT DO NOTHING",
            {"campaign": str(event.campaign_id), "unit": event.unit},
        )


class _Account(msgspec.Struct, frozen=True):
    unit: str
    account_id: str


def unit_accounts(db: ViewDatabase) -> dict[str, list[UUID]]:
    """Each unit's accounts, as far as this view knows, in the order they were granted."""
    found: dict[str, list[UUID]] = {}
    query = "SELECT unit, account_id FROM {desk_unit_accounts} ORDER BY position"
    for row in select(db, _Account, query, {}):
        found.setdefault(row.unit, []).append(UUID(row.account_id))
    return found


class _Unit(msgspec.Struct, frozen=True):
    unit: str


def written_summaries(db: ViewDatabase, campaign_id: UUID) -> set[str]:
    """The units that have written their work summary of the campaign."""
    query = "SELECT unit FROM {desk_work_summaries} WHERE campaign_id = :campaign"
    return {r.unit for r in select(db, _Unit, query, {"campaign": str(campaign_id)})}
