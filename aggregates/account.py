"""An account (账号): a person's login in one tenant, the roles granted to it, and its state.

Event-sourced so that auditors see who held which rights when. The password hash is recorded
(never the password); the audit history shows that it changed, not the hash.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Any
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate

from aggregates.actor import ROLE_NAMES_ZH, Actor, Role
from aggregates.problems import Conflict, DomainError, InvalidInput, NotFound, Problem

ACCOUNT_NAMESPACE = uuid5(NAMESPACE_URL, "https://qcflow.cn/ns/account")
LOGIN = re.compile(r"^[^@\s]{1,64}@[^@\s]+\.[^@\s]{2,}$")

SCOPED_ROLES = {
    Role.APPLICANT_UNIT: "credit_code",
    Role.RECOMMENDING_UNIT: "unit",
    Role.REVIEWER: "reviewer",
}
"""Roles bound to one thing: an enterprise (by credit code), a recommending unit, a reviewer profile."""


class AccountStatus(StrEnum):
    PENDING = "pending"
    """Registered, waiting for its confirmation or for the invitation to be accepted."""
    ACTIVE = "active"
    DISABLED = "disabled"


class AccountError(DomainError):
    """Base of the account's refusals."""


class InvalidAccount(AccountError, InvalidInput):
    pass


class AccountConflict(AccountError, Conflict):
    pass


class AccountNotFound(AccountError, NotFound):
    def __init__(self, what: str = "account") -> None:
        super().__init__(Problem(what, "not_found", "未找到该账号"))


@dataclass(frozen=True)
class Grant:
    """A role held, with what it is bound to (its scope) and the binding's details."""

    role: Role
    scope: str | None = None
    details: tuple[tuple[str, str], ...] = ()

    def to_state(self) -> dict[str, Any]:
        return {"role": self.role.value, "scope": self.scope, "details": dict(self.details)}

    @classmethod
    def from_state(cls, state: dict[str, Any]) -> Grant:
        return cls(Role(state["role"]), state["scope"], tuple(sorted(state["details"].items())))

    def problems(self) -> list[Problem]:
        needs = SCOPED_ROLES.get(self.role)
        if needs and not self.scope:
            return [
                Problem(f"grant.{needs}", "required", f"{ROLE_NAMES_ZH[self.role]}须绑定{needs}")
            ]
        if not needs and self.scope:
            return [Problem("grant.scope", "not_scoped", f"{ROLE_NAMES_ZH[self.role]}不绑定单位")]
        return []


class Account(Aggregate):
    """One login of one tenant."""

    class Registered(Aggregate.Created):
        tenant: str
        login: str
        name: str
        password_hash: str | None
        status: AccountStatus
        actor_id: str
        actor_role: str

        def apply(self, aggregate: Account) -> None:
            aggregate.tenant = self.tenant
            aggregate.login = self.login
            aggregate.name = self.name
            aggregate.password_hash = self.password_hash
            aggregate.status = self.status
            aggregate.grants_state = []
            aggregate.locked_until = None
            aggregate.session_epoch = 0

    class Activated(Aggregate.Event):
        actor_id: str
        actor_role: str

        def apply(self, aggregate: Account) -> None:
            aggregate.status = AccountStatus.ACTIVE

    class RoleGranted(Aggregate.Event):
        role: Role
        scope: str | None
        details: dict[str, str]
        actor_id: str
        actor_role: str

        def apply(self, aggregate: Account) -> None:
            aggregate.grants_state.append(
                {"role": self.role.value, "scope": self.scope, "details": dict(self.details)}
            )

    class RoleRevoked(Aggregate.Event):
        role: Role
        scope: str | None
        reason: str
        actor_id: str
        actor_role: str

        def apply(self, aggregate: Account) -> None:
            aggregate.grants_state = [
                g
                for g in aggregate.grants_state
                if (g["role"], g["scope"]) != (self.role.value, self.scope)
            ]

    class PasswordChanged(Aggregate.Event):
        password_hash: str
        via: str
        """change (by the user), reset (by a reset token) or invitation (set on accepting)."""
        actor_id: str
        actor_role: str

        def apply(self, aggregate: Account) -> None:
            aggregate.password_hash = self.password_hash
            aggregate.session_epoch += 1  # every session signed in before is revoked

    class Locked(Aggregate.Event):
        reason: str
        until: datetime | None
        actor_id: str
        actor_role: str

        def apply(self, aggregate: Account) -> None:
            aggregate.locked_until = self.until or datetime.max.replace(
                tzinfo=self.timestamp.tzinfo
            )
            aggregate.session_epoch += 1

    class Unlocked(Aggregate.Event):
        actor_id: str
        actor_role: str

        def apply(self, aggregate: Account) -> None:
            aggregate.locked_until = None

    class Disabled(Aggregate.Event):
        reason: str
        actor_id: str
        actor_role: str

        def apply(self, aggregate: Account) -> None:
            aggregate.status = AccountStatus.DISABLED
            aggregate.session_epoch += 1

    if TYPE_CHECKING:  # set by the events' apply()
        tenant: str
        login: str
        name: str
        password_hash: str | None
        status: AccountStatus
        grants_state: list[dict[str, Any]]
        locked_until: datetime | None
        session_epoch: int

    @staticmethod
    def create_id(tenant: str, login: str) -> UUID:
        # One account per login in a tenant: the store refuses a second.
        return uuid5(ACCOUNT_NAMESPACE, f"{tenant}/{normalise_login(login)}")

    @classmethod
    def register(
        cls,
        *,
        tenant: str,
        login: str,
        name: str,
        password_hash: str | None,
        status: AccountStatus,
        actor: Actor,
    ) -> Account:
        login = normalise_login(login)
        problems = []
        if not LOGIN.match(login):
            problems.append(Problem("login", "email_format", "登录名须为电子邮箱"))
        if not name.strip() or len(name) > 100:
            problems.append(Problem("name", "required", "姓名不能为空，且不超过 100 字"))
        if status is AccountStatus.DISABLED:
            problems.append(Problem("status", "invalid", "新账号不能是停用状态"))
        if problems:
            raise InvalidAccount(*problems)
        return cls._create(
            cls.Registered,
            id=cls.create_id(tenant, login),
            tenant=tenant,
            login=login,
            name=name.strip(),
            password_hash=password_hash,
            status=status,
            **actor.fields(),
        )

    @property
    def grants(self) -> list[Grant]:
        return [Grant.from_state(g) for g in self.grants_state]

    def roles(self) -> set[Role]:
        return {g.role for g in self.grants}

    def is_locked(self, at: datetime) -> bool:
        return self.locked_until is not None and at < self.locked_until

    def check_can_sign_in(self, at: datetime) -> None:
        if self.status is AccountStatus.DISABLED:
            raise AccountConflict(Problem("account", "disabled", "账号已停用"))
        if self.status is AccountStatus.PENDING:
            raise AccountConflict(Problem("account", "pending", "账号尚未确认或尚未接受邀请"))
        if self.is_locked(at):
            raise AccountConflict(
                Problem("account", "locked", "账号因多次登录失败已锁定，请稍后再试或联系秘书处")
            )

    def activate(self, actor: Actor) -> None:
        if self.status is not AccountStatus.PENDING:
            raise AccountConflict(Problem("account", "not_pending", "账号已确认"))
        self.trigger_event(self.Activated, **actor.fields())

    def grant(self, grant: Grant, actor: Actor) -> None:
        problems = grant.problems()
        if problems:
            raise InvalidAccount(*problems)
        if any((g.role, g.scope) == (grant.role, grant.scope) for g in self.grants):
            raise AccountConflict(Problem("grant", "already_granted", "该角色已授予"))
        self.trigger_event(
            self.RoleGranted,
            role=grant.role,
            scope=grant.scope,
            details=dict(grant.details),
            **actor.fields(),
        )

    def revoke(self, role: Role, scope: str | None, reason: str, actor: Actor) -> None:
        if not any((g.role, g.scope) == (role, scope) for g in self.grants):
            raise AccountConflict(Problem("grant", "not_granted", "该账号没有此角色"))
        self.trigger_event(
            self.RoleRevoked, role=role, scope=scope, reason=reason, **actor.fields()
        )

    def change_password(self, password_hash: str, via: str, actor: Actor) -> None:
        if self.status is AccountStatus.DISABLED:
            raise AccountConflict(Problem("account", "disabled", "账号已停用"))
        self.trigger_event(
            self.PasswordChanged, password_hash=password_hash, via=via, **actor.fields()
        )

    def lock(self, reason: str, until: datetime | None, actor: Actor) -> None:
        self.trigger_event(self.Locked, reason=reason, until=until, **actor.fields())

    def unlock(self, actor: Actor) -> None:
        if self.locked_until is None:
            raise AccountConflict(Problem("account", "not_locked", "账号未锁定"))
        self.trigger_event(self.Unlocked, **actor.fields())

    def disable(self, reason: str, actor: Actor) -> None:
        if actor.user_id == str(self.id):
            # Nobody disables their own account: a tenant's last secretariat would lock
            # everyone out, and nobody would be left to undo it.
            raise AccountConflict(Problem("account", "own_account", "不能停用自己的账号"))
        if self.status is AccountStatus.DISABLED:
            raise AccountConflict(Problem("account", "disabled", "账号已停用"))
        if not reason.strip():
            raise InvalidAccount(Problem("reason", "required", "须说明停用原因"))
        self.trigger_event(self.Disabled, reason=reason.strip(), **actor.fields())


def normalise_login(login: str) -> str:
    return login.strip().lower()
