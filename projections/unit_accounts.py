"""Unit accounts (推荐单位账号): which accounts hold the recommending-unit role of which unit — whom
the campaign desk mails when a unit is late.

An index: the Account aggregate decides whether an account is active and still holds the role;
readers of this view load the accounts they mail.
"""

from __future__ import annotations

from functools import singledispatchmethod
from uuid import UUID

import msgspec
from eventsourcing.domain import DomainEventProtocol
from eventsourcing.utils import get_topic

from aggregates.account import Account
from aggregates.actor import Role
from projections.runner import Projection
from projections.store import Tx, ViewDatabase, select


class UnitAccountsProjection(Projection):
    name = "unit_accounts"
    topics = (get_topic(Account.RoleGranted), get_topic(Account.RoleRevoked))
    tables = ("unit_accounts",)

    def create_tables(self, tx: Tx) -> None:
        tx.execute(
            "CREATE TABLE IF NOT EXISTS {unit_accounts} ("
            " account_id TEXT NOT NULL, unit TEXT NOT NULL, position BIGINT NOT NULL,"
            " PRIMARY KEY (account_id, unit))"
        )

    @singledispatchmethod
    def process(self, event: DomainEventProtocol[UUID], tx: Tx, position: int) -> None:
        """Events of no interest change nothing."""

    @process.register
    def _granted(self, event: Account.RoleGranted, tx: Tx, position: int) -> None:
        if event.role is not Role.RECOMMENDING_UNIT or not event.scope:
            return
        tx.execute(
            "INSERT INTO {unit_accounts} (account_id, unit, position)"
            " VALUES (:id, :unit, :position) ON CONFLICT DO NOTHING",
            {"id": str(event.originator_id), "unit": event.scope, "position": position},
        )

    @process.register
    def _revoked(self, event: Account.RoleRevoked, tx: Tx, position: int) -> None:
        if event.role is Role.RECOMMENDING_UNIT and event.scope:
            tx.execute(
                "DELETE FROM {unit_accounts} WHERE account_id = :id AND unit = :unit",
                {"id": str(event.originator_id), "unit": event.scope},
            )


class _Row(msgspec.Struct, frozen=True):
    unit: str
    account_id: str


def unit_accounts(db: ViewDatabase) -> dict[str, list[UUID]]:
    """Each unit's accounts, as far as this view knows, in the order they were granted."""
    found: dict[str, list[UUID]] = {}
    rows = select(db, _Row, "SELECT unit, account_id FROM {unit_accounts} ORDER BY position", {})
    for row in rows:
        found.setdefault(row.unit, []).append(UUID(row.account_id))
    return found
