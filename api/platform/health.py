"""Health: up or down for anyone (a load balancer); with the operations token, each tenant
store's state and each read model's position and lag."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, Response, get
from litestar.di import NamedDependency
from litestar.status_codes import HTTP_200_OK, HTTP_503_SERVICE_UNAVAILABLE
from msgspec import UNSET, UnsetType

from api.platform.access import PUBLIC, access, is_operator
from api.platform.schemas import Response as Body
from projections.runner import STORE_ERRORS
from projections.service import PlatformViews
from tenants.runtime import Platform


class ProjectionHealth(Body, kw_only=True, frozen=True):
    name: str
    state: str
    position: int
    head: int
    lag: int
    error: str | None


class TenantHealth(Body, kw_only=True, frozen=True):
    store: str
    """ok, or unavailable (with the error)."""
    backend: str
    head: int | None
    error: str | None
    projections: list[ProjectionHealth]


class Health(Body, kw_only=True, frozen=True):
    status: str
    """ok, or degraded (answered with 503)."""
    tenants: dict[str, TenantHealth] | UnsetType = UNSET
    """Each tenant's store and read models: only with the operations token."""


class HealthController(Controller):
    path = "/health"
    tags = ["operations 运维"]

    @get("/", operation_id="health", sync_to_thread=True, opt=access(PUBLIC))
    def health(
        self,
        request: Request[Any, Any, Any],
        platform: NamedDependency[Platform],
        platform_views: NamedDependency[PlatformViews],
    ) -> Response[Health]:
        """Up (200, `ok`) or down (503, `degraded`), nothing more; with the operations token as
        the bearer, each tenant's store and read models too."""
        tenants = {
            code: _tenant_health(platform, platform_views, code) for code in platform.tenants
        }
        healthy = all(
            t.store == "ok"
            and all(p.state in ("starting", "active", "standby", "external") for p in t.projections)
            for t in tenants.values()
        )
        status = "ok" if healthy else "degraded"
        body = (
            Health(status=status, tenants=tenants)
            if is_operator(request)
            else Health(status=status)
        )
        return Response(body, status_code=HTTP_200_OK if healthy else HTTP_503_SERVICE_UNAVAILABLE)


def _tenant_health(platform: Platform, views: PlatformViews, code: str) -> TenantHealth:
    runtime = platform.tenants[code]
    backend = "postgresql" if runtime.location.is_postgres else "sqlite"
    projections = [
        ProjectionHealth(
            name=s.projection,
            state=s.state,
            position=s.position,
            head=s.head,
            lag=s.lag,
            error=s.error,
        )
        for s in views.statuses(code)
    ]
    try:
        head = runtime.ledger.recorder.max_notification_id() or 0
    except STORE_ERRORS as e:
        return TenantHealth(
            store="unavailable", backend=backend, head=None, error=str(e), projections=projections
        )
    return TenantHealth(store="ok", backend=backend, head=head, error=None, projections=projections)
