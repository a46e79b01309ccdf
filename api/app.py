"""The Litestar application: `create_app()` builds it; nothing happens at import time."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import datetime

from litestar import Litestar, Router
from litestar.datastructures import State
from litestar.di import Provide
from litestar.openapi import OpenAPIConfig

from api.access import PUBLIC, Access, access, authorize
from api.accounts import AccountController, RegistrationController, SessionController
from api.audit import AuditController
from api.audit_chain import ChainController
from api.audit_reads import AuditReadsController
from api.auth_store import AuthStore
from api.campaigns import CampaignController
from api.dependencies import DEPENDENCIES
from api.errors import EXCEPTION_HANDLERS
from api.forwarding import ForwardingController, IntakeController
from api.health import HealthController
from api.logging import request_logging
from api.mail import MailSender
from api.metrics import REQUESTS, MetricsController
from api.recommendations import RecommendationController
from api.registrations import CampaignRegistrationController
from api.results import CertificateController, ResultsController
from api.reviews import ExpertController, ReviewController
from api.security import Signer, load_secret
from api.statistics import StatisticsController
from api.submissions import AttachmentController, SubmissionController
from api.tenants import TenantController
from api.unit_reports import UnitReportController
from projections.service import PlatformViews
from projections.store import open_view_database
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
        with platform.startup_lock():  # its tables: one process at a time
            auth = {
                code: AuthStore(open_view_database(runtime.location, "auth"))
                for code, runtime in platform.tenants.items()
            }
        mail = MailSender(settings, auth)
        if settings.run_projections:
            views.start()
            mail.start()
        app.state.platform, app.state.views, app.state.auth = platform, views, auth
        app.state.signer = Signer(load_secret(settings.secret_key, settings.data_dir))
        app.state.settings, app.state.mail = settings, mail
        app.state.files = {code: runtime.files for code, runtime in platform.tenants.items()}
        try:
            yield
        finally:
            mail.stop()
            for store in auth.values():
                store.db.close()
            views.close()
            platform.close()

    def provide_platform_views(state: State) -> PlatformViews:
        views: PlatformViews = state.views
        return views

    app = Litestar(
        route_handlers=[
            TenantController,
            CampaignController,
            HealthController,
            MetricsController,
            SessionController,
            RegistrationController,
            AccountController,
            CampaignRegistrationController,
            SubmissionController,
            AttachmentController,
            RecommendationController,
            UnitReportController,
            ExpertController,
            ReviewController,
            ResultsController,
            CertificateController,
            ForwardingController,
            IntakeController,
            StatisticsController,
            AuditController,
            ChainController,
            AuditReadsController,
        ],
        guards=[authorize],
        dependencies={
            **DEPENDENCIES,
            "platform_views": Provide(provide_platform_views, sync_to_thread=False),
        },
        exception_handlers=EXCEPTION_HANDLERS,
        middleware=[request_logging, REQUESTS.middleware],
        lifespan=[platform_lifespan],
        logging_config=None,
        openapi_config=OpenAPIConfig(
            title="qcflow",
            version="1",
            description="群众性质量活动平台 API：协会、活动、报名、申报、推荐、评审、统计",
            openapi_router=Router(path="/schema", route_handlers=[], opt=access(PUBLIC)),
        ),
    )
    check_every_route_declares_access(app)
    return app


def check_every_route_declares_access(app: Litestar) -> None:
    """Deny by default, checked at start: a route without an access rule stops the app."""
    missing = [
        f"{sorted(handler.http_methods)} {route.path}"
        for route in app.routes
        for handler in getattr(route, "route_handlers", [])
        if not isinstance(handler.opt.get("access"), Access)
        and handler.http_methods != {"OPTIONS"}  # Litestar's own; the guard refuses them too
    ]
    if missing:
        raise RuntimeError(f"routes without an access rule: {missing}")
