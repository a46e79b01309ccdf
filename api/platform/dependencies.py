"""Request dependencies: the tenant from the path, the acting user, the expected version,
the sign-in records.

Tenant checks run here, not inside handlers: an unknown tenant is a 404 before any handler.
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Callable
from typing import Annotated, Any

import structlog
from litestar import Request
from litestar._kwargs.cleanup import DependencyCleanupGroup
from litestar._kwargs.dependencies import resolve_dependency
from litestar._kwargs.kwargs_model import KwargsModel
from litestar.connection import ASGIConnection
from litestar.datastructures import State
from litestar.di import NamedDependency, Provide
from litestar.params import FromPath, HeaderParameter

from aggregates.actor import Actor
from aggregates.problems import Problem
from api.accounts.routes import Auth
from api.platform.access import actor_of, principal_of
from api.platform.errors import RequestProblem
from api.platform.records import Records
from projections.service import PlatformViews, TenantViews
from tenants.files import FileStore
from tenants.runtime import Platform, TenantRuntime

_ETAG = re.compile(r'^(?:W/)?"?(\d{1,18})"?$')


def provide_platform(state: State) -> Platform:
    platform: Platform = state.platform
    return platform


def provide_runtime(tenant: FromPath[str], platform: NamedDependency[Platform]) -> TenantRuntime:
    runtime = platform.get(tenant)
    if runtime is None and platform.registry.get(tenant) is not None:
        # Registered but not started (a platform started with `only`, as tests do): not the
        # "no such tenant" a test of another tenant's records would otherwise pass on.
        raise RequestProblem(503, Problem("tenant", "not_started", f"协会 {tenant} 未在本进程启动"))
    if runtime is None:
        raise RequestProblem(404, Problem("tenant", "not_found", f"没有代码为 {tenant} 的协会"))
    structlog.contextvars.bind_contextvars(tenant=tenant)
    return runtime


def provide_views(runtime: NamedDependency[TenantRuntime], state: State) -> TenantViews:
    views: PlatformViews = state.views
    return views[runtime.tenant.code]


def provide_actor(request: Request[Any, Any, Any]) -> Actor:
    """The signed-in user, in the role this route admits them in (set by the access guard)."""
    return actor_of(request)


def provide_records(request: Request[Any, Any, Any]) -> Records:
    """The record-level rules for the signed-in user (whom the access guard set)."""
    return Records(principal_of(request))


def provide_files(runtime: NamedDependency[TenantRuntime], state: State) -> FileStore:
    store: FileStore = state.files[runtime.tenant.code]
    return store


def provide_auth(runtime: NamedDependency[TenantRuntime], state: State) -> Auth:
    return Auth(
        runtime, state.auth[runtime.tenant.code], state.signer, state.settings, state.hashing
    )


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
    "auth": Provide(provide_auth, sync_to_thread=False),
    "files": Provide(provide_files, sync_to_thread=False),
    "records": Provide(provide_records, sync_to_thread=False),
}


async def _resolve_in_turn(
    self: KwargsModel, connection: ASGIConnection[Any, Any, Any, Any], kwargs: dict[str, Any]
) -> DependencyCleanupGroup:
    """`KwargsModel.resolve_dependencies`, one dependency after another.

    Litestar (2.25.0, pinned) resolves the dependencies of one level of the graph in an anyio
    task group, on every request: a task per dependency, a cancel scope, the event loop's task
    machinery, for functions that return at once (litestar-org/litestar#4563, open). Every
    dependency of this app is such a function (`DEPENDENCIES`: synchronous, no thread, no
    I/O), so running them concurrently buys nothing; in a draft's request the task group was
    about 8 % of the web process's own Python time (py-spy, issue 22). The levels are
    still resolved in order, so what a dependency depends on is there before it."""
    cleanup_group = DependencyCleanupGroup()
    for batch in self.dependency_batches:
        for dependency in batch:
            provider = dependency.provide.dependency
            names = _PLAIN.get(provider)
            if names is None:
                await resolve_dependency(dependency, connection, kwargs, cleanup_group)
            else:
                values = {n: kwargs[n] for n in names if n in kwargs}
                if "state" in values:  # Litestar hands the state's dict, to make a State of
                    values["state"] = connection.app.state
                kwargs[dependency.key] = provider(**values)
    return cleanup_group


_PLAIN: dict[Callable[..., Any], tuple[str, ...]] = {
    provide.dependency: tuple(inspect.signature(provide.dependency).parameters)
    for provide in DEPENDENCIES.values()
    if provide.has_sync_callable
    and not (provide.sync_to_thread or provide.use_cache)
    and not (provide.has_sync_generator_dependency or provide.has_async_generator_dependency)
}
"""This app's own dependencies (`DEPENDENCIES`), called as they are, with what they take from
the request's values: Litestar would first convert those values into the provider's signature
model (msgspec, each time), and then await the call. What they take needs no conversion: the
path's tenant is text, the If-Match header is text or absent, the rest are what other
dependencies and the app's state made. Three of them were 8 % of a signed-in list's CPU in the
server (py-spy, issue 22). Only a plain function is called so (synchronous, in no thread, not
cached, no generator); any other provider, and a handler's own, still goes Litestar's way."""


def resolve_dependencies_in_turn() -> None:
    """Have Litestar resolve each request's dependencies one after another (`_resolve_in_turn`);
    `create_app` does, once per process."""
    KwargsModel.resolve_dependencies = _resolve_in_turn  # type: ignore[method-assign]
