"""Who may call which route: every route declares its access; a guard enforces it. Which
records a caller may read or change once admitted is `api.platform.records`.

Deny by default: a route that declares nothing refuses everyone (and `create_app` refuses to
start). A signed-in user reaches only their own tenant: another tenant's paths answer 404, so
that the existence of its records does not leak.
"""

from __future__ import annotations

import hmac
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import Any
from uuid import UUID

import structlog
from litestar.connection import ASGIConnection, Request

from aggregates.account import Account, AccountError
from aggregates.actor import Actor, Role
from aggregates.ledger.base import current_as_of_request
from aggregates.problems import Problem
from api.accounts.auth_store import AuthStore, SessionRecord
from api.accounts.cache import AccountCache
from api.platform.batched import BatchedReads
from api.platform.errors import RequestProblem
from api.platform.security import CSRF_FIELD, CSRF_HEADER, SESSION_COOKIE, Signer
from tenants.runtime import Platform, TenantRuntime
from tenants.settings import Settings

SAFE_METHODS = frozenset(("GET", "HEAD", "OPTIONS"))
SYSTEM = Actor("qcflow", Role.SYSTEM)
"""The platform itself, acting on a rule (e.g. locking an account after failed sign-ins)."""


@dataclass(frozen=True)
class Access:
    """A route's access rule. `roles=None` admits every signed-in role of the tenant;
    `operations` admits the operations token only (no session, whatever its roles)."""

    public: bool = False
    roles: frozenset[Role] | None = None
    operations: bool = False

    def role_for(self, principal: Principal) -> Role | None:
        held = principal.roles
        if self.roles is None:
            return min(held) if held else None
        allowed = set(self.roles)
        if Role.SECRETARIAT in allowed:
            allowed.add(
                Role.NATIONAL_STAFF
            )  # the national tenant's staff run it as its secretariat
        matching = held & allowed
        return min(matching) if matching else None


PUBLIC = Access(public=True)
SIGNED_IN = Access()
OPERATIONS = Access(roles=frozenset(), operations=True)
"""Operations detail (`/metrics`): ledger heads, counts, error texts are not for the public."""


def only(*roles: Role) -> Access:
    return Access(roles=frozenset(roles))


def access(rule: Access) -> dict[str, Any]:
    """The `opt` of a route handler that declares its access rule."""
    return {"access": rule}


@dataclass(frozen=True)
class Principal:
    """The signed-in user of a request."""

    account: Account
    tenant: str
    session_id: str
    via_cookie: bool
    view_positions: Mapping[str, int] = field(default_factory=dict)
    """Stored positions of some of the tenant's read models, read with the session (ADR 0031):
    a read whose cache is keyed by its view's position checks it without a round trip."""
    current_versions: Mapping[UUID, int] = field(default_factory=dict)
    """The last versions of the campaigns named by the paths of the requests read together with
    this one (its own among them), read with the session, after each of them began: the
    ledger's kept copy at such a version is loaded with no read of its own (`authorize`)."""

    @property
    def roles(self) -> set[Role]:
        return self.account.roles()


def bearer_or_cookie(connection: ASGIConnection[Any, Any, Any, Any]) -> tuple[str, bool] | None:
    header = connection.headers.get("authorization", "")
    if header.lower().startswith("bearer "):
        return header[7:].strip(), False
    cookie = connection.cookies.get(SESSION_COOKIE)
    return (cookie, True) if cookie else None


def is_operator(connection: ASGIConnection[Any, Any, Any, Any]) -> bool:
    """Whether the request carries the operations token (`QCFLOW_METRICS_TOKEN`) as its bearer;
    never when none is configured."""
    settings: Settings = connection.app.state.settings
    presented = bearer_or_cookie(connection)
    if settings.metrics_token is None or presented is None or presented[1]:
        return False
    return hmac.compare_digest(presented[0].encode(), settings.metrics_token.encode())


@dataclass(frozen=True)
class SignedIn:
    """A session as read from the store, with its account (None: not found or unusable)."""

    session: SessionRecord
    account: Account | None


SessionKey = tuple[str, UUID | None]
"""What a request asks of the store: its session (by id), and the campaign its path names, if
any, whose last version is read with the session (`AuthStore.sessions`)."""


def signed_in(
    auth: AuthStore, accounts: AccountCache, keys: Sequence[SessionKey]
) -> dict[SessionKey, SignedIn]:
    """These sessions (those that exist) with their accounts as of their last events, and the
    last versions of the campaigns asked about: one statement for all of them, an account
    rebuilt only when it has changed (blocking; run by `BatchedReads` for the requests that
    asked together)."""
    campaigns = list(dict.fromkeys(c for _, c in keys if c is not None))
    sessions = auth.sessions(list(dict.fromkeys(s for s, _ in keys)), campaigns)
    found: dict[str, SignedIn] = {}
    for session_id, session in sessions.items():
        try:
            account: Account | None = accounts.get(session.account_id, session.account_version)
        except AccountError:
            account = None
        found[session_id] = SignedIn(session, account)
    return {key: found[key[0]] for key in keys if key[0] in found}


def session_reads(auth: AuthStore, accounts: AccountCache) -> BatchedReads[SessionKey, SignedIn]:
    """A tenant's sessions, read together for the requests that ask at the same time."""
    return BatchedReads(partial(signed_in, auth, accounts))


@dataclass(frozen=True)
class Presented:
    """A well-formed, unexpired session token of a known tenant."""

    tenant: str
    session_id: str
    via_cookie: bool
    runtime: TenantRuntime


async def authenticate(connection: ASGIConnection[Any, Any, Any, Any]) -> Principal:
    """The request's principal from its session token, or 401. Its session is read together
    with those of the requests that ask at the same time (`BatchedReads`)."""
    presented = _presented(connection)
    sessions: BatchedReads[SessionKey, SignedIn] = connection.app.state.sessions[presented.tenant]
    campaign = connection.path_params.get("campaign_id")
    key = (presented.session_id, campaign if isinstance(campaign, UUID) else None)
    return _admitted(presented, await sessions.get(key))


def authenticate_alone(connection: ASGIConnection[Any, Any, Any, Any]) -> Principal:
    """`authenticate`, blocking (from a handler's thread), its session read on its own."""
    presented = _presented(connection)
    state = connection.app.state
    key = (presented.session_id, None)
    read = signed_in(state.auth[presented.tenant], state.accounts[presented.tenant], [key])
    return _admitted(presented, read.get(key))


def _presented(connection: ASGIConnection[Any, Any, Any, Any]) -> Presented:
    platform: Platform = connection.app.state.platform
    signer: Signer = connection.app.state.signer
    presented = bearer_or_cookie(connection)
    if presented is None:
        raise _unauthenticated("未登录：请先登录")
    token, via_cookie = presented
    opened = signer.open_session_token(token)
    runtime = platform.get(opened[0]) if opened else None
    if opened is None or runtime is None:
        raise _unauthenticated("登录凭证无效，请重新登录")
    tenant, session_id, expires_at = opened
    if expires_at <= runtime.ledger.clock():
        raise _unauthenticated("登录已过期，请重新登录")
    return Presented(tenant, session_id, via_cookie, runtime)


def _admitted(presented: Presented, found: SignedIn | None) -> Principal:
    now = presented.runtime.ledger.clock()
    if found is None or found.session.revoked or found.session.expires_at <= now:
        raise _unauthenticated("登录已失效，请重新登录")
    session, account = found.session, found.account
    try:
        if account is not None:
            account.check_can_sign_in(now)
    except AccountError:
        account = None
    if account is None:
        raise _unauthenticated("账号不可用，请重新登录")
    if account.session_epoch != session.epoch:
        raise _unauthenticated("密码已更改或账号已锁定，请重新登录")
    return Principal(
        account,
        presented.tenant,
        presented.session_id,
        presented.via_cookie,
        session.view_positions,
        session.current_versions,
    )


def _unauthenticated(message: str) -> RequestProblem:
    return RequestProblem(401, Problem("session", "unauthenticated", message))


async def authorize(connection: ASGIConnection[Any, Any, Any, Any]) -> None:
    """The app-wide guard: the access rule of the route the request reached, enforced. Called
    first by the app's before-request hook (`api.app.before_handler`), not as a Litestar guard:
    Litestar hands each guard a copy of the route handler, made on every request (4 % of a
    signed-in list's CPU in the server, issue 22)."""
    rule = connection.route_handler.opt.get("access")
    if not isinstance(rule, Access):
        raise RequestProblem(403, Problem("route", "no_access_rule", "该接口未开放"))
    if rule.public:
        return
    if rule.operations:
        if bearer_or_cookie(connection) is None:
            raise RequestProblem(
                401, Problem("authorization", "operations_token", "需要运维令牌（Bearer）")
            )
        if not is_operator(connection):
            raise RequestProblem(
                403, Problem("authorization", "operations_token", "运维令牌不正确")
            )
        return
    principal = await authenticate(connection)
    path_tenant = connection.path_params.get("tenant")
    if path_tenant is not None and path_tenant != principal.tenant:
        raise RequestProblem(
            404, Problem("tenant", "not_found", f"没有代码为 {path_tenant} 的协会")
        )
    role = rule.role_for(principal)
    if role is None:
        raise RequestProblem(403, Problem("role", "forbidden", "您的角色无权执行此操作"))
    if principal.via_cookie and connection.scope.get("method") not in SAFE_METHODS:
        signer: Signer = connection.app.state.signer
        presented = connection.headers.get(CSRF_HEADER) or await form_csrf(connection)
        if not signer.check_csrf(principal.session_id, presented):
            raise RequestProblem(403, Problem(CSRF_HEADER, "csrf", "缺少或错误的 CSRF 令牌"))
    state = connection.scope["state"]  # what `connection.state` wraps in a new State each time
    state["principal"] = principal
    state["actor"] = Actor(str(principal.account.id), role)
    structlog.contextvars.bind_contextvars(user=str(principal.account.id), role=role.value)
    current_as_of_request(principal.tenant, principal.current_versions)


def principal_of(connection: ASGIConnection[Any, Any, Any, Any]) -> Principal:
    """Who `authorize` admitted to this request (a route open to the signed-in only)."""
    principal: Principal = connection.scope["state"]["principal"]
    return principal


def signed_in_principal(connection: ASGIConnection[Any, Any, Any, Any]) -> Principal | None:
    """Who `authorize` admitted, or None (a public route, or no one signed in)."""
    principal: Principal | None = connection.scope["state"].get("principal")
    return principal


def actor_of(connection: ASGIConnection[Any, Any, Any, Any]) -> Actor:
    """The signed-in user, in the role the route admitted them in (`authorize`)."""
    actor: Actor = connection.scope["state"]["actor"]
    return actor


FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


async def form_csrf(connection: ASGIConnection[Any, Any, Any, Any]) -> str | None:
    """The CSRF token of a page's form post (its hidden field); the form is read once and kept
    for the handler."""
    if not isinstance(connection, Request):
        return None
    if not connection.headers.get("content-type", "").startswith(FORM_TYPES):
        return None
    value = (await connection.form()).get(CSRF_FIELD)
    return value if isinstance(value, str) else None


def scopes(principal: Principal, role: Role) -> set[str]:
    """What the principal's grants of a role are bound to (credit codes, unit codes, …). Record
    decisions read it through `api.platform.records`, never directly."""
    return {g.scope for g in principal.account.grants if g.role is role and g.scope}


def not_found(field: str) -> RequestProblem:
    """Someone else's record answers as if it did not exist."""
    return RequestProblem(404, Problem(field, "not_found", "未找到"))
