"""The ledger's account commands: register, activate, grant and revoke roles, passwords, locks.

One class of `AssociationLedger` (application.py), over `LedgerBase` (ledger_base.py).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import TypeVar
from uuid import UUID

from eventsourcing.domain import Aggregate
from eventsourcing.persistence import IntegrityError

from aggregates.account import (
    Account,
    AccountConflict,
    AccountNotFound,
    AccountStatus,
    Grant,
    normalise_login,
)
from aggregates.actor import Actor, Role
from aggregates.credentials import check_password
from aggregates.enterprise_claim import ClaimFile, Verification
from aggregates.ledger.base import LedgerBase
from aggregates.problems import Problem

A = TypeVar("A", bound=Aggregate)


class AccountCommands(LedgerBase):
    """Account commands of the tenant's ledger."""

    def register_account(
        self,
        *,
        login: str,
        name: str,
        password: str | None,
        status: AccountStatus,
        grants: list[Grant],
        actor: Actor,
    ) -> Account:
        """A new account; with a password (checked for strength) or without one (an
        invitation, whose acceptance sets it)."""
        if password is not None:
            check_password(password, login, name)
        account = Account.register(
            tenant=self.tenant,
            login=login,
            name=name,
            password_hash=self.passwords.hash(password) if password is not None else None,
            status=status,
            actor=actor,
        )
        for grant in grants:
            account.grant(grant, actor)
        try:
            self._save(account)
        except IntegrityError:
            raise AccountConflict(
                Problem("login", "taken", f"登录名 {normalise_login(login)} 已被注册")
            ) from None
        return account

    def register_applicant(
        self,
        *,
        login: str,
        name: str,
        password: str,
        credit_code: str,
        enterprise_name: str,
        files: list[ClaimFile],
        actor: Actor,
    ) -> Account:
        """An enterprise's self-registration: the applicant role bound to its credit code and,
        in the same transaction, its claim to speak for the enterprise, which awaits
        verification (ADR 0017)."""
        check_password(password, login, name)
        account = Account.register(
            tenant=self.tenant,
            login=login,
            name=name,
            password_hash=self.passwords.hash(password),
            status=AccountStatus.PENDING,
            actor=actor,
        )
        grant = Grant(
            Role.APPLICANT_UNIT, credit_code, (("enterprise_name", enterprise_name.strip()),)
        )
        account.grant(grant, actor)
        account.claim_enterprise(credit_code, enterprise_name, files, actor)
        _save_new(self, account)
        return account

    def invite_colleague(
        self, inviter_id: UUID, credit_code: str, login: str, name: str, actor: Actor
    ) -> Account:
        """An account that speaks for an enterprise invites a colleague, who speaks for it
        from the start: verified by the invitation."""
        inviter = self._find(inviter_id, Account)
        if inviter is None:
            raise AccountNotFound()
        inviter.check_speaks_for(credit_code)
        account = Account.register(
            tenant=self.tenant,
            login=login,
            name=name,
            password_hash=None,
            status=AccountStatus.PENDING,
            actor=actor,
        )
        details = (("enterprise_name", inviter.enterprise_name(credit_code)),)
        account.grant(Grant(Role.APPLICANT_UNIT, credit_code, details), actor)
        account.verify_enterprise(credit_code, Verification.INVITATION, actor)
        _save_new(self, account)
        return account

    def claim_enterprise(
        self,
        account_id: UUID,
        credit_code: str,
        files: list[ClaimFile],
        actor: Actor,
    ) -> Account:
        """Claim again, with new documents, after a refusal."""
        return _update(
            self,
            account_id,
            lambda a: a.claim_enterprise(credit_code, a.enterprise_name(credit_code), files, actor),
        )

    def verify_enterprise(
        self, account_id: UUID, credit_code: str, via: Verification, actor: Actor
    ) -> Account:
        return _update(self, account_id, lambda a: a.verify_enterprise(credit_code, via, actor))

    def refuse_enterprise_claim(
        self, account_id: UUID, credit_code: str, reason: str, actor: Actor
    ) -> Account:
        return _update(
            self, account_id, lambda a: a.refuse_enterprise_claim(credit_code, reason, actor)
        )

    def rename_enterprise(
        self, account_id: UUID, credit_code: str, name: str, reason: str, actor: Actor
    ) -> Account:
        """The enterprise's change of name (更名), recorded on an account that holds it."""
        return _update(
            self, account_id, lambda a: a.rename_enterprise(credit_code, name, reason, actor)
        )

    def get_account(self, account_id: UUID) -> Account:
        found = self._find(account_id, Account)
        if found is None:
            raise AccountNotFound()
        return found

    def find_account(self, login: str) -> Account | None:
        return self._find(Account.create_id(self.tenant, login), Account)

    def activate_account(self, account_id: UUID, actor: Actor) -> Account:
        return _update(self, account_id, lambda a: a.activate(actor))

    def set_password(self, account_id: UUID, password: str, via: str, actor: Actor) -> Account:
        """Set a new password (after a reset or on accepting an invitation)."""

        def change(account: Account) -> None:
            check_password(password, account.login, account.name)
            account.change_password(self.passwords.hash(password), via, actor)
            if account.status is AccountStatus.PENDING:
                account.activate(actor)

        return _update(self, account_id, change)

    def change_password(self, account_id: UUID, current: str, new: str, actor: Actor) -> Account:
        def change(account: Account) -> None:
            if not self.passwords.verify(account.password_hash, current):
                raise AccountConflict(Problem("current_password", "wrong", "当前密码不正确"))
            check_password(new, account.login, account.name)
            account.change_password(self.passwords.hash(new), "change", actor)

        return _update(self, account_id, change)

    def grant_role(self, account_id: UUID, grant: Grant, actor: Actor) -> Account:
        return _update(self, account_id, lambda a: a.grant(grant, actor))

    def revoke_role(
        self, account_id: UUID, role: Role, scope: str | None, reason: str, actor: Actor
    ) -> Account:
        return _update(self, account_id, lambda a: a.revoke(role, scope, reason, actor))

    def lock_account(
        self, account_id: UUID, reason: str, until: datetime | None, actor: Actor
    ) -> Account:
        return _update(self, account_id, lambda a: a.lock(reason, until, actor))

    def unlock_account(self, account_id: UUID, actor: Actor) -> Account:
        return _update(self, account_id, lambda a: a.unlock(actor))

    def disable_account(self, account_id: UUID, reason: str, actor: Actor) -> Account:
        return _update(self, account_id, lambda a: a.disable(reason, actor))


def _save_new(ledger: LedgerBase, account: Account) -> None:
    try:
        ledger._save(account)
    except IntegrityError:
        raise AccountConflict(
            Problem("login", "taken", f"登录名 {account.login} 已被注册")
        ) from None


def _update(ledger: LedgerBase, account_id: UUID, command: Callable[[Account], None]) -> Account:
    return ledger._update(account_id, Account, AccountNotFound, None, command).aggregate
