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
from aggregates.enterprise_claim import (
    CLAIM_DOCUMENT_NAMES_ZH,
    ClaimDocument,
    ClaimFile,
    ClaimStatus,
    EnterpriseClaim,
    Verification,
)
from aggregates.limits import REASON_MAX_CHARS, too_long
from aggregates.problems import Conflict, DomainError, InvalidInput, NotFound, Problem

ACCOUNT_NAMESPACE = uuid5(NAMESPACE_URL, "https://qcflow.cn/ns/account")
ENTERPRISE_NAME_MAX_CHARS = 200
"""An enterprise's full name as on its seal (as the registration's `Short`)."""
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


def _claims(aggregate: Account) -> dict[str, dict[str, Any]]:
    # Snapshots taken before claims existed have no claims_state: none were made then.
    claims: dict[str, dict[str, Any]] = vars(aggregate).setdefault("claims_state", {})
    return claims


def _self_bound(aggregate: Account) -> list[str]:
    """The credit codes an applicant bound the account to (self-registration or invitation);
    a list, as snapshots keep it."""
    bound: list[str] = vars(aggregate).setdefault("self_bound", [])
    return bound


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
            aggregate.claims_state = {}

    class Event(Aggregate.Event):
        """The base of every event of a Account after its creation: who caused it. (Only the
        concrete events are stored, each under its own topic; their fields are unchanged.)"""

        actor_id: str
        actor_role: str

    class Activated(Event):
        def apply(self, aggregate: Account) -> None:
            aggregate.status = AccountStatus.ACTIVE

    class RoleGranted(Event):
        role: Role
        scope: str | None
        details: dict[str, str]

        def apply(self, aggregate: Account) -> None:
            aggregate.grants_state.append(
                {"role": self.role.value, "scope": self.scope, "details": dict(self.details)}
            )
            if self.role is Role.APPLICANT_UNIT and self.actor_role == Role.APPLICANT_UNIT.value:
                # Bound by an applicant (itself, or an inviting colleague), not by the
                # secretariat: it speaks for the enterprise only through a verified claim.
                _self_bound(aggregate).append(str(self.scope))

    class RoleRevoked(Event):
        role: Role
        scope: str | None
        reason: str

        def apply(self, aggregate: Account) -> None:
            aggregate.grants_state = [
                g
                for g in aggregate.grants_state
                if (g["role"], g["scope"]) != (self.role.value, self.scope)
            ]
            if self.role is Role.APPLICANT_UNIT and self.scope:
                _claims(aggregate).pop(self.scope, None)  # the claim went with the grant
                bound = _self_bound(aggregate)
                bound[:] = [c for c in bound if c != self.scope]

    class EnterpriseClaimed(Event):
        """The account claims to speak for an enterprise, with its licence and sealed letter;
        until verified it speaks for nothing filed under that code by anyone else."""

        credit_code: str
        enterprise_name: str
        files: list[dict[str, Any]]

        def apply(self, aggregate: Account) -> None:
            _claims(aggregate)[self.credit_code] = {
                "enterprise_name": self.enterprise_name,
                "status": ClaimStatus.AWAITING_VERIFICATION.value,
                "files": [dict(f) for f in self.files],
                "via": None,
                "reason": None,
            }

    class EnterpriseVerified(Event):
        credit_code: str
        via: Verification

        def apply(self, aggregate: Account) -> None:
            claims = _claims(aggregate)
            claim = claims.get(self.credit_code) or {
                "enterprise_name": aggregate.enterprise_name(self.credit_code),
                "files": [],
            }
            claims[self.credit_code] = {
                **claim,
                "status": ClaimStatus.VERIFIED.value,
                "via": self.via.value,
                "reason": None,
            }

    class EnterpriseClaimRefused(Event):
        credit_code: str
        reason: str

        def apply(self, aggregate: Account) -> None:
            claim = _claims(aggregate)[self.credit_code]
            claim["status"] = ClaimStatus.REFUSED.value
            claim["reason"] = self.reason

    class EnterpriseRenamed(Event):
        """The enterprise changed its name (更名, on a new business licence): the name its
        results are filed and certified under from now on (ADR 0037)."""

        credit_code: str
        enterprise_name: str
        reason: str

        def apply(self, aggregate: Account) -> None:
            for grant in aggregate.grants_state:
                if (
                    grant["role"] == Role.APPLICANT_UNIT.value
                    and grant["scope"] == self.credit_code
                ):
                    grant["details"] = {**grant["details"], "enterprise_name": self.enterprise_name}
            claim = _claims(aggregate).get(self.credit_code)
            if claim is not None:
                claim["enterprise_name"] = self.enterprise_name

    class PasswordChanged(Event):
        password_hash: str
        via: str
        """change (by the user), reset (by a reset token) or invitation (set on accepting)."""

        def apply(self, aggregate: Account) -> None:
            aggregate.password_hash = self.password_hash
            aggregate.session_epoch += 1  # every session signed in before is revoked

    class Locked(Event):
        reason: str
        until: datetime | None

        def apply(self, aggregate: Account) -> None:
            aggregate.locked_until = self.until or datetime.max.replace(
                tzinfo=self.timestamp.tzinfo
            )
            aggregate.session_epoch += 1

    class Unlocked(Event):
        def apply(self, aggregate: Account) -> None:
            aggregate.locked_until = None

    class Disabled(Event):
        reason: str

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
        claims_state: dict[str, dict[str, Any]]

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
        return {Role(g["role"]) for g in self.grants_state}  # no Grant made (every request)

    # Whom the account speaks for (ADR 0017).

    def speaks_for(self) -> frozenset[str]:
        """The credit codes of the enterprises this account speaks for: those of its applicant
        grants, less those whose claim awaits verification or was refused. A grant with no
        claim speaks for its enterprise when the secretariat or an operator made it; bound by
        an applicant itself (a self-registration from before claims existed), it does not."""
        claims, self_bound = _claims(self), _self_bound(self)
        return frozenset(
            g.scope
            for g in self.grants
            if g.role is Role.APPLICANT_UNIT
            and g.scope
            and (
                claims[g.scope]["status"] == ClaimStatus.VERIFIED.value
                if g.scope in claims
                else g.scope not in self_bound
            )
        )

    def claims(self) -> list[EnterpriseClaim]:
        return [EnterpriseClaim.from_state(c, s) for c, s in sorted(_claims(self).items())]

    def claim(self, credit_code: str) -> EnterpriseClaim | None:
        state = _claims(self).get(credit_code)
        return EnterpriseClaim.from_state(credit_code, state) if state else None

    def enterprise_name(self, credit_code: str) -> str:
        """The enterprise's name as the account's grant (or claim) records it."""
        for g in self.grants:
            if g.role is Role.APPLICANT_UNIT and g.scope == credit_code:
                return dict(g.details).get("enterprise_name", "")
        return str(_claims(self).get(credit_code, {}).get("enterprise_name", ""))

    def verified_name(self, credit_code: str) -> str | None:
        """The enterprise's name as verified (以公章为准, 制作证书的依据): the name on its claim or
        grant, once the account speaks for it; None when it does not, or no name was recorded
        (an applicant grant made by an operator without one)."""
        if credit_code not in self.speaks_for():
            return None
        return self.enterprise_name(credit_code).strip() or None

    def rename_enterprise(self, credit_code: str, name: str, reason: str, actor: Actor) -> None:
        """Record the enterprise's new name (更名), with why (a new licence, say)."""
        if not any(g.role is Role.APPLICANT_UNIT and g.scope == credit_code for g in self.grants):
            raise AccountConflict(
                Problem("credit_code", "not_granted", "账号未绑定该统一社会信用代码")
            )
        problems = []
        if not name.strip() or len(name.strip()) > ENTERPRISE_NAME_MAX_CHARS:
            problems.append(
                Problem("enterprise_name", "required", "单位名称不能为空，且不超过 200 字")
            )
        if not reason.strip():
            problems.append(Problem("reason", "required", "请说明更名的依据"))
        problems += too_long("reason", reason, REASON_MAX_CHARS, "原因")
        if problems:
            raise InvalidAccount(*problems)
        if name.strip() == self.enterprise_name(credit_code):
            raise AccountConflict(Problem("enterprise_name", "unchanged", "单位名称未改变"))
        self.trigger_event(
            self.EnterpriseRenamed,
            credit_code=credit_code,
            enterprise_name=name.strip(),
            reason=reason.strip(),
            **actor.fields(),
        )

    def check_speaks_for(self, credit_code: str) -> None:
        """Refuses what only a verified account of the enterprise may do (submit, invite)."""
        if credit_code in self.speaks_for():
            return
        claim = self.claim(credit_code)
        if claim is not None and claim.status is ClaimStatus.REFUSED:
            raise AccountConflict(
                Problem(
                    "credit_code",
                    "claim_refused",
                    f"本账号代表该单位的申请未通过核验：{claim.reason}",
                )
            )
        raise AccountConflict(
            Problem(
                "credit_code",
                "awaiting_verification",
                "本账号代表该单位的身份尚待核验（营业执照与授权委托书），核验通过后方可办理",
            )
        )

    def claim_enterprise(
        self, credit_code: str, enterprise_name: str, files: list[ClaimFile], actor: Actor
    ) -> None:
        if not any(g.role is Role.APPLICANT_UNIT and g.scope == credit_code for g in self.grants):
            raise AccountConflict(
                Problem("credit_code", "not_granted", "账号未绑定该统一社会信用代码")
            )
        problems = [
            Problem(d.value, "required", f"须上传{CLAIM_DOCUMENT_NAMES_ZH[d]}")
            for d in ClaimDocument
            if sum(f.document is d for f in files) != 1
        ]
        if not enterprise_name.strip():
            problems.append(Problem("enterprise_name", "required", "单位名称不能为空"))
        if problems:
            raise InvalidAccount(*problems)
        claim = self.claim(credit_code)
        if claim is not None and claim.status is ClaimStatus.VERIFIED:
            raise AccountConflict(
                Problem("credit_code", "already_verified", "本账号已代表该单位，无需再次申请")
            )
        if claim is not None and claim.status is ClaimStatus.AWAITING_VERIFICATION:
            raise AccountConflict(Problem("credit_code", "claim_pending", "本账号的申请正在核验中"))
        self.trigger_event(
            self.EnterpriseClaimed,
            credit_code=credit_code,
            enterprise_name=enterprise_name.strip(),
            files=[f.to_state() for f in files],
            **actor.fields(),
        )

    def verify_enterprise(self, credit_code: str, via: Verification, actor: Actor) -> None:
        """Establish that the account speaks for the enterprise: its pending claim accepted,
        or (via an invitation) a colleague's word, given when the account is invited."""
        claim = self.claim(credit_code)
        if via is Verification.INVITATION:
            if claim is not None or not any(
                g.role is Role.APPLICANT_UNIT and g.scope == credit_code for g in self.grants
            ):
                raise AccountConflict(
                    Problem("credit_code", "not_invited", "仅受邀的新账号可由邀请确认身份")
                )
        elif claim is None or claim.status is not ClaimStatus.AWAITING_VERIFICATION:
            raise AccountConflict(_no_pending_claim())
        self.trigger_event(
            self.EnterpriseVerified, credit_code=credit_code, via=via, **actor.fields()
        )

    def refuse_enterprise_claim(self, credit_code: str, reason: str, actor: Actor) -> None:
        claim = self.claim(credit_code)
        if claim is None or claim.status is not ClaimStatus.AWAITING_VERIFICATION:
            raise AccountConflict(_no_pending_claim())
        if not reason.strip():
            raise InvalidAccount(Problem("reason", "required", "须说明未通过核验的原因"))
        self.trigger_event(
            self.EnterpriseClaimRefused,
            credit_code=credit_code,
            reason=reason.strip(),
            **actor.fields(),
        )

    def is_locked(self, at: datetime) -> bool:
        return self.locked_until is not None and at < self.locked_until

    def sign_in_refusal(self, at: datetime) -> Problem | None:
        """Why this account may not sign in (or go on using a session) at `at`; None if it may.
        The one rule of sign-in eligibility: the API adds only throttling and the answer's shape."""
        if self.status is AccountStatus.DISABLED:
            return Problem("account", "disabled", "账号已停用")
        if self.status is AccountStatus.PENDING:
            return Problem("account", "pending", "账号尚未确认或尚未接受邀请")
        if self.is_locked(at):
            return Problem("account", "locked", "账号因多次登录失败已锁定，请稍后再试或联系秘书处")
        return None

    def check_can_sign_in(self, at: datetime) -> None:
        refusal = self.sign_in_refusal(at)
        if refusal is not None:
            raise AccountConflict(refusal)

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


def _no_pending_claim() -> Problem:
    return Problem("credit_code", "no_pending_claim", "该账号没有待核验的申请")


def normalise_login(login: str) -> str:
    return login.strip().lower()
