"""Enterprise accounts (单位账号): which accounts hold an enterprise's credit code and where each
one's claim stands — the secretariat's queue of claims, and whom to tell of a new claim.

An index: the Account aggregate decides whether an account speaks for an enterprise
(`Account.speaks_for`); readers of this view load the accounts they act on (ADR 0017).
"""

from __future__ import annotations

import json
from functools import singledispatchmethod
from typing import Any
from uuid import UUID

import msgspec
from eventsourcing.domain import DomainEventProtocol
from eventsourcing.utils import get_topic

from aggregates.account import Account
from aggregates.actor import Role
from aggregates.enterprise_claim import ClaimStatus
from projections.runner import Projection
from projections.store import Tx, ViewDatabase, select

GRANTED = "granted"
"""The applicant role granted without a claim (by the secretariat or at setup): speaks for it."""
SELF_BOUND = "self_bound"
"""Bound by an applicant (a self-registration, an invitation): speaks only once its claim is
verified; one from before claims existed waits for its claim (ADR 0017)."""
SPEAKING = (GRANTED, ClaimStatus.VERIFIED.value)


class ClaimRow(msgspec.Struct, frozen=True, kw_only=True):
    account_id: str
    credit_code: str
    enterprise_name: str
    status: str
    files: list[dict[str, Any]]
    via: str | None
    reason: str | None
    position: int
    """Where the claim was made in the tenant's log: the queue's order."""


class EnterpriseAccountsProjection(Projection):
    name = "enterprise_accounts"
    topics = tuple(
        get_topic(e)
        for e in (
            Account.RoleGranted,
            Account.RoleRevoked,
            Account.EnterpriseClaimed,
            Account.EnterpriseVerified,
            Account.EnterpriseClaimRefused,
        )
    )
    tables = ("enterprise_accounts",)

    def create_tables(self, tx: Tx) -> None:
        tx.execute(
            "CREATE TABLE IF NOT EXISTS {enterprise_accounts} ("
            " account_id TEXT NOT NULL, credit_code TEXT NOT NULL, enterprise_name TEXT NOT NULL,"
            " status TEXT NOT NULL, files TEXT NOT NULL, via TEXT, reason TEXT,"
            " position BIGINT NOT NULL, PRIMARY KEY (account_id, credit_code))"
        )

    @singledispatchmethod
    def process(self, event: DomainEventProtocol[UUID], tx: Tx, position: int) -> None:
        """Events of no interest change nothing."""

    @process.register
    def _granted(self, event: Account.RoleGranted, tx: Tx, position: int) -> None:
        if event.role is not Role.APPLICANT_UNIT or not event.scope:
            return
        tx.execute(
            "INSERT INTO {enterprise_accounts} (account_id, credit_code, enterprise_name, status,"
            " files, position) VALUES (:id, :code, :name, :status, '[]', :position)"
            " ON CONFLICT DO NOTHING",
            {
                "id": str(event.originator_id),
                "code": event.scope,
                "name": event.details.get("enterprise_name", ""),
                "status": GRANTED if event.actor_role != Role.APPLICANT_UNIT.value else SELF_BOUND,
                "position": position,
            },
        )

    @process.register
    def _revoked(self, event: Account.RoleRevoked, tx: Tx, position: int) -> None:
        if event.role is Role.APPLICANT_UNIT and event.scope:
            tx.execute(
                "DELETE FROM {enterprise_accounts} WHERE account_id = :id AND credit_code = :code",
                {"id": str(event.originator_id), "code": event.scope},
            )

    @process.register
    def _claimed(self, event: Account.EnterpriseClaimed, tx: Tx, position: int) -> None:
        tx.execute(
            "UPDATE {enterprise_accounts} SET enterprise_name = :name, status = :status,"
            " files = :files, via = NULL, reason = NULL, position = :position"
            " WHERE account_id = :id AND credit_code = :code",
            {
                "id": str(event.originator_id),
                "code": event.credit_code,
                "name": event.enterprise_name,
                "status": ClaimStatus.AWAITING_VERIFICATION.value,
                "files": json.dumps(event.files, ensure_ascii=False),
                "position": position,
            },
        )

    @process.register
    def _verified(self, event: Account.EnterpriseVerified, tx: Tx, position: int) -> None:
        tx.execute(
            "UPDATE {enterprise_accounts} SET status = :status, via = :via"
            " WHERE account_id = :id AND credit_code = :code",
            {
                "id": str(event.originator_id),
                "code": event.credit_code,
                "status": ClaimStatus.VERIFIED.value,
                "via": event.via.value,
            },
        )

    @process.register
    def _refused(self, event: Account.EnterpriseClaimRefused, tx: Tx, position: int) -> None:
        tx.execute(
            "UPDATE {enterprise_accounts} SET status = :status, reason = :reason"
            " WHERE account_id = :id AND credit_code = :code",
            {
                "id": str(event.originator_id),
                "code": event.credit_code,
                "status": ClaimStatus.REFUSED.value,
                "reason": event.reason,
            },
        )


def claims(db: ViewDatabase, status: str, credit_codes: set[str] | None = None) -> list[ClaimRow]:
    """The claims in a status, oldest first; only those of `credit_codes` when given."""
    with db.transaction() as tx:
        rows = tx.execute(
            "SELECT account_id, credit_code, enterprise_name, status, files, via, reason, position"
            " FROM {enterprise_accounts} WHERE status = :status ORDER BY position",
            {"status": status},
        )
    found = [
        ClaimRow(
            account_id=r[0],
            credit_code=r[1],
            enterprise_name=r[2],
            status=r[3],
            files=json.loads(r[4]),
            via=r[5],
            reason=r[6],
            position=int(r[7]),
        )
        for r in rows
    ]
    return [c for c in found if credit_codes is None or c.credit_code in credit_codes]


class _AccountId(msgspec.Struct, frozen=True):
    account_id: str


def speaking_accounts(db: ViewDatabase, credit_code: str) -> list[UUID]:
    """The accounts that speak for the enterprise, as far as this view knows (load each one:
    the account decides)."""
    rows = select(
        db,
        _AccountId,
        "SELECT account_id FROM {enterprise_accounts}"
        " WHERE credit_code = :code AND status IN (:granted, :verified) ORDER BY position",
        {"code": credit_code, "granted": SPEAKING[0], "verified": SPEAKING[1]},
    )
    return [UUID(r.account_id) for r in rows]
