"""The accounts of a tenant (账号列表): who was registered or invited, in order — the
secretariat's accounts page.

An index: the Account aggregate holds the status, roles and locks; the page loads the accounts it
lists (a tenant has hundreds, not millions) so that it shows what the ledger decides.
"""

from __future__ import annotations

from functools import singledispatchmethod
from uuid import UUID

import msgspec
from eventsourcing.domain import DomainEventProtocol
from eventsourcing.utils import get_topic

from aggregates.account import Account
from projections.runner import Projection
from projections.store import Tx, ViewDatabase, select


class AccountRow(msgspec.Struct, frozen=True, kw_only=True):
    account_id: str
    login: str
    name: str
    position: int


class AccountListProjection(Projection):
    name = "account_list"
    topics = (get_topic(Account.Registered),)
    tables = ("account_list",)

    def create_tables(self, tx: Tx) -> None:
        tx.execute(
            "CREATE TABLE IF NOT EXISTS {account_list} ("
            " account_id TEXT PRIMARY KEY, login TEXT NOT NULL, name TEXT NOT NULL,"
            " position BIGINT NOT NULL)"
        )

    @singledispatchmethod
    def process(self, event: DomainEventProtocol[UUID], tx: Tx, position: int) -> None:
        """Events of no interest change nothing."""

    @process.register
    def _registered(self, event: Account.Registered, tx: Tx, position: int) -> None:
        tx.execute(
            "INSERT INTO {account_list} (account_id, login, name, position)"
            " VALUES (:id, :login, :name, :position) ON CONFLICT DO NOTHING",
            {
                "id": str(event.originator_id),
                "login": event.login,
                "name": event.name,
                "position": position,
            },
        )


def account_rows(db: ViewDatabase) -> list[AccountRow]:
    """Every account of the tenant, the latest first."""
    return select(
        db,
        AccountRow,
        "SELECT account_id, login, name, position FROM {account_list} ORDER BY position DESC",
        {},
    )
