"""Request dependencies: the tenant from the path, the acting user, the expected version.

Tenant checks run here, not inside handlers: an unknown tenant is a 404 before any handler.
"""

from __future__ import annotations

import re
from typing import Annotated, Any

import structlog
from litestar.datastructures import State
from litestar.di import NamedDependency, Provide
from litestar.params import FromPath, HeaderParameter

from aggregates.actor import Actor, Role
from aggregates.problems import Problem
from api.errors import RequestProblem
from projections.service import PlatformViews, TenantViews
from tenants.runtime import Platform, TenantRuntime

DEV_USER_HEADER = "X-QCFlow-Dev-User"
DEV_ROLE_HEADER = "X-QCFlow-Dev-Role"
"""DEVELOPMENT ONLY, until accounts exist (the accounts issue replaces these headers): who acts.
No other shortcut exists; the headers are documented in the README as temporary."""

_ETAG = re.compile(r'^(?:W/)?"?(\d{1,18})"?$')


def provide_platform(state: State) -> Platform:
    platform: Platform = state.platform
    return platform


def provide_runtime(tenant: FromPath[str], platform: NamedDependency[Platform]) -> TenantRuntime:
    runtime = platform.get(tenant)
    if runtime is None:
        raise RequestProblem(404, Problem("tenant", "not_found", f"没有代码为 {tenant} 的协会"))
    structlog.contextvars.bind_contextvars(tenant=tenant)
    return runtime


def provide_views(runtime: NamedDependency[TenantRuntime], state: State) -> TenantViews:
    views: PlatformViews = state.views
    return views[runtime.tenant.code]


def provide_actor(
    user: Annotated[str | None, HeaderParameter(name=DEV_USER_HEADER, required=False)] = None,
    role: Annotated[str | None, HeaderParameter(name=DEV_ROLE_HEADER, required=False)] = None,
) -> Actor:
    if not user or not user.strip():
        raise RequestProblem(
            401, Problem(DEV_USER_HEADER, "required", "缺少操作人（开发期请求头）")
        )
    try:
        acting_role = Role(role or "")
    except ValueError:
        roles = "、".join(r.value for r in Role)
        raise RequestProblem(
            401, Problem(DEV_ROLE_HEADER, "unknown_role", f"角色须为：{roles}")
        ) from None
    structlog.contextvars.bind_contextvars(user=user, role=acting_role.value)
    return Actor(user_id=user.strip(), role=acting_role)


def provide_expected_version(
    if_match: Annotated[str | None, HeaderParameter(name="If-Match", required=False)] = None,
) -> int | None:
    """The version the client read (its ETag) as If-Match; absent or * means any version."""
    if if_match is None or if_match.strip() == "*":
        return None
    found = _ETAG.match(if_match.strip())
    if found is None:
        raise RequestProblem(400, Problem("If-Match", "etag_format", '应为资源的 ETag，例如 "3"'))
    return int(found.group(1))


def etag(version: int) -> str:
    return f'"{version}"'


DEPENDENCIES: dict[str, Any] = {
    "platform": Provide(provide_platform, sync_to_thread=False),
    "runtime": Provide(provide_runtime, sync_to_thread=False),
    "views": Provide(provide_views, sync_to_thread=False),
    "actor": Provide(provide_actor, sync_to_thread=False),
    "expected_version": Provide(provide_expected_version, sync_to_thread=False),
}
