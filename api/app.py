"""The Litestar application: `create_app()` builds it; nothing happens at import time."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import datetime

from litestar import Litestar
from litestar.datastructures import State
from litestar.di import Provide
from litestar.openapi import OpenAPIConfig

from api.campaigns import CampaignController
from api.dependencies import DEPENDENCIES
from api.errors import EXCEPTION_HANDLERS
from api.health import HealthController
from api.logging import request_logging
from api.tenants import TenantController
from projections.service import PlatformViews
from tenants.runtime import Platform
from tenants.settings import Settings


def create_app(
    settings: Settings | None = None,
    *,
    clock: Callable[[], datetime] | None = None,
    poll_interval: float = 0.5,
) -> Litestar:
    """The platform over HTTP. The tenants' ledgers and read models are built when the app
    starts and closed when it stops; `clock` replaces business time (tests)."""
    settings = settings or Settings.from_env()

    @asynccontextmanager
    async def platform_lifespan(app: Litestar) -> AsyncIterator[None]:
        platform = Platform.from_settings(settings)
        try:
            views = PlatformViews(platform, poll_interval=poll_interval)
        except BaseException:
            platform.close()
            raise
        if clock is not None:
            for runtime in platform.tenants.values():
                runtime.ledger.clock = clock
        if settings.run_projections:
            views.start()
        app.state.platform, app.state.views = platform, views
        try:
            yield
        finally:
            views.close()
            platform.close()

    def provide_platform_views(state: State) -> PlatformViews:
        views: PlatformViews = state.views
        return views

    return Litestar(
        route_handlers=[TenantController, CampaignController, HealthController],
        dependencies={
            **DEPENDENCIES,
            "platform_views": Provide(provide_platform_views, sync_to_thread=False),
        },
        exception_handlers=EXCEPTION_HANDLERS,
        middleware=[request_logging],
        lifespan=[platform_lifespan],
        logging_config=None,
        openapi_config=OpenAPIConfig(
            title="qcflow",
            version="1",
            description="群众性质量活动平台 API：协会、活动、报名、申报、推荐、评审、统计",
            path="/schema",
        ),
    )
