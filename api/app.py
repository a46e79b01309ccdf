"""The Litestar application: `create_app()` builds it; nothing happens at import time."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator, Callable, Collection
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import psycopg
import structlog
from litestar import Litestar, Request, Router
from litestar.concurrency import sync_to_thread
from litestar.datastructures import State
from litestar.di import Provide
from litestar.exceptions import HTTPException
from litestar.openapi import OpenAPIConfig

from aggregates.credentials import Passwords
from api.accounts.auth_store import AuthStore
from api.accounts.cache import AccountCache
from api.accounts.enterprise_claims import (
    ColleagueController,
    EnterpriseClaimController,
    OwnClaimController,
)
from api.accounts.routes import AccountController, RegistrationController, SessionController
from api.accounts.sign_in import HASHING_SLOTS, BoundedPasswords, hashing_executor
from api.applicants.registrations import CampaignRegistrationController
from api.applicants.submissions import AttachmentController, SubmissionController
from api.audit.chain import ChainController
from api.audit.reads import AuditReadsController
from api.audit.routes import AuditController
from api.campaigns.routes import CampaignController
from api.forwarding.routes import ForwardingController, IntakeController
from api.platform.access import PUBLIC, Access, access, authorize, session_reads
from api.platform.boundary import ApiRequest, refuse_hostile_parameters
from api.platform.dependencies import DEPENDENCIES, resolve_dependencies_in_turn
from api.platform.errors import EXCEPTION_HANDLERS, http_error
from api.platform.health import HealthController
from api.platform.logging import request_logging
from api.platform.mail import MailSender
from api.platform.metrics import MetricsController, request_metrics
from api.platform.openapi import document_responses
from api.platform.read_your_writes import follow_writes, read_your_writes
from api.platform.security import Signer, load_secret, security_headers
from api.platform.tenants import TenantController
from api.portal.errors import page_or_problem
from api.portal.rendering import template_config
from api.portal.site import htmx_plugin, portal_router
from api.recommending.routes import RecommendationController
from api.recommending.unit_reports import UnitReportController
from api.review.results import CertificateController, ResultsController
from api.review.routes import ExpertController, ReviewController
from api.statistics.routes import StatisticsController
from projections.campaign_list import LISTED
from projections.service import PlatformViews
from projections.store import open_view_database
from tenants.pool import database_unavailable
from tenants.runtime import Platform, TenantRuntime
from tenants.settings import Settings

PURGE_INTERVAL = 600.0
"""Seconds between purges of expired sessions, tokens, attempts and mail records."""


@dataclass(frozen=True)
class Startup:
    """What the app starts on, read at each start. For tests: `clock` replaces business time;
    `only` and `passwords` are the Platform's (start only these tenants; hash with this hasher)."""

    settings: Settings
    clock: Callable[[], datetime] | None = None
    poll_interval: float = 0.5
    only: Collection[str] | None = None
    passwords: Passwords | None = None


def _started_platform(run: Startup) -> Platform:
    """The run's platform; without a PostgreSQL connection, the start names the cause."""
    try:
        return Platform.from_settings(run.settings, only=run.only, passwords=run.passwords)
    except psycopg.OperationalError as e:
        if run.settings.database_url is None:
            raise
        raise database_unavailable(run.settings.database_url, e) from None


def create_app(
    settings: Settings | None = None,
    *,
    clock: Callable[[], datetime] | None = None,
    poll_interval: float = 0.5,
    only: Collection[str] | None = None,
    passwords: Passwords | None = None,
) -> Litestar:
    """The platform over HTTP. The tenants' ledgers and read models are built when the app
    starts and closed when it stops; the other arguments are `Startup`'s.

    Everything a run holds is built in the lifespan, from the app's `Startup`, never in this
    function: the tests build the app once and start it on each test's settings
    (`restart_on`), since building the routes costs more than starting the platform."""
    resolve_dependencies_in_turn()
    startup = Startup(
        settings or Settings.from_env(),
        clock=clock,
        poll_interval=poll_interval,
        only=only,
        passwords=passwords,
    )

    @asynccontextmanager
    async def platform_lifespan(app: Litestar) -> AsyncIterator[None]:
        run: Startup = app.state.startup
        settings, clock, poll_interval = run.settings, run.clock, run.poll_interval
        platform = _started_platform(run)
        try:
            views = PlatformViews(platform, poll_interval=poll_interval)
        except BaseException:
            platform.close()
            raise
        follow_writes(platform, views)  # a request waits for its writes' read models
        slots = threading.BoundedSemaphore(HASHING_SLOTS)  # one bound for every tenant
        for runtime in platform.tenants.values():
            if clock is not None:
                runtime.ledger.clock = clock
            runtime.ledger.passwords = BoundedPasswords(runtime.ledger.passwords, slots)
        with platform.startup_lock():  # its tables: one process at a time
            auth = {
                code: AuthStore(
                    open_view_database(runtime.location, "auth"),
                    views=POSITIONED_VIEWS,
                    upstream=runtime.ledger.name,
                )
                for code, runtime in platform.tenants.items()
            }
        accounts = {
            code: AccountCache(runtime.ledger) for code, runtime in platform.tenants.items()
        }
        mail = MailSender(settings, auth)
        if settings.run_projections:
            views.start()
            mail.start()
        app.state.platform, app.state.views, app.state.auth = platform, views, auth
        app.state.accounts = accounts
        app.state.sessions = {code: session_reads(auth[code], accounts[code]) for code in auth}
        app.state.signer = Signer(load_secret(settings.secret_key, settings.data_dir))
        app.state.settings, app.state.mail = settings, mail
        app.state.files = {code: runtime.files for code, runtime in platform.tenants.items()}
        app.state.hashing = hashing = hashing_executor()
        purging = asyncio.create_task(purge_expired(platform.tenants, auth))
        try:
            yield
        finally:
            purging.cancel()
            with suppress(asyncio.CancelledError):
                await purging
            hashing.shutdown(wait=True, cancel_futures=True)
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
            EnterpriseClaimController,
            OwnClaimController,
            ColleagueController,
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
            portal_router(),
        ],
        request_class=ApiRequest,
        before_request=before_handler,
        dependencies={
            **DEPENDENCIES,
            "platform_views": Provide(provide_platform_views, sync_to_thread=False),
        },
        # Errors before any route (no such path or method) are pages for a browser.
        exception_handlers={**EXCEPTION_HANDLERS, HTTPException: page_or_problem(http_error)},
        template_config=template_config(),
        plugins=[htmx_plugin()],
        state=State({"startup": startup}),
        middleware=[request_logging, request_metrics, read_your_writes],
        before_send=[security_headers],
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
    document_responses(app)
    return app


async def before_handler(request: Request[Any, Any, Any]) -> None:
    """Before every route's handler: who may call it (`authorize`, the access guard), then what
    its parameters may carry (`refuse_hostile_parameters`)."""
    await authorize(request)
    await refuse_hostile_parameters(request)


POSITIONED_VIEWS = (LISTED,)
"""Read models whose stored position each session's statement reads too (PostgreSQL), for the
reads that cache by it (`GET …/campaigns`, ADR 0031)."""


def restart_on(app: Litestar, startup: Startup) -> None:
    """What the app's next start runs on (tests: one app, started on each test's settings)."""
    app.state.startup = startup


async def purge_expired(tenants: dict[str, TenantRuntime], auth: dict[str, AuthStore]) -> None:
    """At start and every PURGE_INTERVAL: each tenant's expired sign-in records deleted."""
    log = structlog.get_logger("qcflow.purge")
    while True:
        for code, store in auth.items():
            try:
                deleted = await sync_to_thread(store.purge, tenants[code].ledger.clock())
            except Exception as e:  # a database away now is tried again next time
                log.warning("purge_failed", tenant=code, error_type=type(e).__name__)
            else:
                if any(deleted.values()):
                    log.info("sign_in_records_purged", tenant=code, **deleted)
        await asyncio.sleep(PURGE_INTERVAL)


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
