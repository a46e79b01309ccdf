"""The portal's part of the app: its pages under one router (with the pages' error handlers),
the static files, the templates and htmx."""

from __future__ import annotations

from typing import Any

from litestar import Router
from litestar.datastructures import CacheControlHeader
from litestar.plugins.htmx import HTMXConfig, HTMXPlugin, HTMXRequest
from litestar.static_files import create_static_files_router

from api.platform.access import PUBLIC, access
from api.portal.accounts import AccountPages, SignInPages
from api.portal.applicant import ApplicantPages
from api.portal.audit import AuditPages
from api.portal.campaign_setup import CampaignSetupPages
from api.portal.contest import ContestPages
from api.portal.decisions import DecisionPages
from api.portal.demo import DemoPages
from api.portal.enterprise import EnterpriseClaimPages
from api.portal.errors import PAGE_EXCEPTION_HANDLERS
from api.portal.expert_pool import ExpertPoolPages
from api.portal.grading import GradingPages, PublicObjectionPages
from api.portal.national import IntakePages, NationalForwardingPages, NationalIndexPages
from api.portal.phases import PhasePages
from api.portal.plan_editor import PlanPages
from api.portal.public import PublicPages
from api.portal.recommending import RecommendingPages
from api.portal.rendering import STATIC, STATIC_PATH
from api.portal.review import FormalReviewPages
from api.portal.reviewer import ReviewerPages
from api.portal.rounds import RoundPages
from api.portal.secretariat import SecretariatPages
from api.portal.staff import StaffPages
from api.portal.statistics import StatisticsPages
from api.portal.submission_forms import ResultFormPages
from api.portal.unit_reports import UnitReportPages

PAGES: list[Any] = [
    PublicPages,
    SignInPages,
    DemoPages,
    AccountPages,
    EnterpriseClaimPages,
    ApplicantPages,
    ResultFormPages,
    AuditPages,
    NationalIndexPages,
    NationalForwardingPages,
    IntakePages,
    PhasePages,
    CampaignSetupPages,
    UnitReportPages,
    FormalReviewPages,
    PlanPages,
    ExpertPoolPages,
    RecommendingPages,
    StaffPages,
    DecisionPages,
    SecretariatPages,
    RoundPages,
    ReviewerPages,
    GradingPages,
    PublicObjectionPages,
    ContestPages,
    StatisticsPages,
]
"""One controller per channel; the later channels join here."""


STATIC_CACHING = CacheControlHeader(public=True, max_age=365 * 24 * 3600, immutable=True)
"""A page names each static file with a digest of its content (`rendering.asset`): the browser
keeps it and asks again only when a release changes it, not once per page."""


def portal_router() -> Router:
    static = create_static_files_router(
        path=STATIC_PATH,
        directories=[STATIC],
        cache_control=STATIC_CACHING,
        opt=access(PUBLIC),
        include_in_schema=False,
        name="static",
    )
    return Router(
        path="/",
        route_handlers=[*PAGES, static],
        exception_handlers=PAGE_EXCEPTION_HANDLERS,
        request_class=HTMXRequest,
        include_in_schema=False,
    )


def htmx_plugin() -> HTMXPlugin:
    # Only the portal's router uses HTMXRequest; the API keeps Litestar's plain Request.
    return HTMXPlugin(HTMXConfig(set_request_class_globally=False))
