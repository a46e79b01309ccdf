"""The public site (anyone, no session): the associations, an association's home with its open
campaigns, a campaign's notice and blank forms, the published results, the public notice (公示)
while it is open, certificate verification, and the language switch."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Annotated, Any
from uuid import UUID

from litestar import Controller, Request, Response, get
from litestar.datastructures import Cookie, State
from litestar.di import NamedDependency
from litestar.params import FromPath, QueryParameter
from litestar.plugins.htmx import HTMXTemplate
from litestar.response import Redirect, Template

from aggregates.campaign import Campaign, Phase, Programme, Window
from aggregates.ledger.review import parse_certificate_code
from api.platform.access import PUBLIC, access, not_found
from api.platform.exports import XLSX, download
from api.portal import labels
from api.portal.clock import countdown, line, written, written_day
from api.portal.downloads import FORMS, blank_form, forms_of
from api.portal.i18n import LANGUAGE_COOKIE, LANGUAGES
from api.portal.rendering import Page
from api.review.results import find_certificate
from projections.campaign_list import CampaignSummary, list_campaigns
from projections.review_board import ResultRow, ShownResult, campaign_results, published_results
from projections.service import TenantViews
from tenants.runtime import Platform, TenantRuntime

LEVELS = {
    "provincial": labels.N_("省级协会"),
    "industry": labels.N_("行业协会"),
    "national": labels.N_("全国协会"),
}


def timeline_of(summary: CampaignSummary) -> dict[Phase, Window]:
    windows = {
        Phase(name): Window(w["opens_at"], w["closes_at"])
        for name, w in summary.timeline.items()
        if w["closes_at"] is not None
    }
    return {p: windows[p] for p in Phase if p in windows}


def is_current(summary: CampaignSummary, now: datetime) -> bool:
    """Open now: not archived, and today falls between its first opening and its last deadline."""
    timeline = timeline_of(summary)
    if summary.status == "archived" or not timeline:
        return False
    starts = [w.opens_at or summary.opened_at for w in timeline.values()]
    return min(starts) <= now < max(w.closes_at for w in timeline.values())


def safe_next(value: str | None, fallback: str = "/") -> str:
    """A local path to go back to (never another site: no scheme, no `//`)."""
    if value and value.startswith("/") and not value.startswith("//") and "\\" not in value:
        return value
    return fallback


class PublicPages(Controller):
    path = "/"
    include_in_schema = False

    @get("/", operation_id="portalHome", sync_to_thread=True, opt=access(PUBLIC))
    def associations(
        self, request: Request[Any, Any, Any], platform: NamedDependency[Platform]
    ) -> Template:
        page = Page(request)
        tenants = [
            {"tenant": t, "level": page.speaker.gettext(LEVELS[t.level.value])}
            for t in platform.registry
        ]
        return page.render("public/associations.html", tenants=tenants)

    @get("/{tenant:str}", operation_id="portalTenant", sync_to_thread=True, opt=access(PUBLIC))
    def tenant_home(
        self,
        request: Request[Any, Any, Any],
        runtime: NamedDependency[TenantRuntime],
        views: NamedDependency[TenantViews],
    ) -> Template:
        page = Page(request, runtime.tenant)
        campaigns = [c for c in list_campaigns(views.db("campaign_list")) if not c.rehearsal]
        current = [c for c in campaigns if is_current(c, page.now)]
        others = [c for c in campaigns if c not in current]
        return page.render(
            "public/tenant.html",
            current=[self._card(page, c) for c in current],
            others=[self._card(page, c) for c in others],
        )

    @staticmethod
    def _card(page: Page, summary: CampaignSummary) -> dict[str, Any]:
        timeline = timeline_of(summary)
        due = countdown(timeline, page.now)
        return {
            "summary": summary,
            "programme": labels.programme(page.speaker, summary.programme),
            "countdown": due.text(page.now, page.speaker) if due else "",
            "due": written(due.moment, page.zone, page.speaker) if due else "",
            "line": line(timeline, page.now, page.zone, page.speaker),
        }

    @get(
        "/{tenant:str}/campaigns/{campaign_id:uuid}",
        operation_id="portalNotice",
        sync_to_thread=True,
        opt=access(PUBLIC),
    )
    def notice(
        self,
        request: Request[Any, Any, Any],
        campaign_id: FromPath[UUID],
        runtime: NamedDependency[TenantRuntime],
        views: NamedDependency[TenantViews],
    ) -> Template:
        page = Page(request, runtime.tenant)
        campaign = runtime.ledger.get_campaign(campaign_id)
        rows = campaign_results(views.db("review_board"), campaign_id, {})
        return page.render(
            "public/notice.html",
            campaign=campaign,
            programme=labels.programme(page.speaker, campaign.programme),
            period=(
                written_day(campaign.period_start, page.speaker),
                written_day(campaign.period_end, page.speaker),
            ),
            forms=[(code, page.speaker.gettext(FORMS[code])) for code in forms_of(campaign)],
            has_results=campaign.published_at is not None,
            in_notice=any(r.status == "public_notice" for r in rows),
            **_timeline_context(page, campaign),
        )

    @get(
        "/{tenant:str}/campaigns/{campaign_id:uuid}/countdown",
        operation_id="portalCountdown",
        sync_to_thread=True,
        opt=access(PUBLIC),
    )
    def countdown_part(
        self,
        request: Request[Any, Any, Any],
        campaign_id: FromPath[UUID],
        runtime: NamedDependency[TenantRuntime],
    ) -> Template:
        """The countdown alone, which the notice page refreshes every minute (htmx)."""
        page = Page(request, runtime.tenant)
        campaign = runtime.ledger.get_campaign(campaign_id)
        context = page.context({"campaign": campaign, **_timeline_context(page, campaign)})
        return HTMXTemplate(template_name="public/_countdown.html", context=context)

    @get(
        "/{tenant:str}/campaigns/{campaign_id:uuid}/forms/{form:str}",
        operation_id="portalForm",
        sync_to_thread=True,
        opt=access(PUBLIC),
    )
    def form(
        self,
        request: Request[Any, Any, Any],
        campaign_id: FromPath[UUID],
        form: FromPath[str],
        runtime: NamedDependency[TenantRuntime],
    ) -> Response[bytes]:
        campaign = runtime.ledger.get_campaign(campaign_id)
        code = form.removesuffix(".xlsx")
        if code not in forms_of(campaign):
            raise_not_found()
        content = blank_form(code, campaign, runtime.tenant)
        return download(content, XLSX, f"{campaign.title}-{FORMS[code]}.xlsx")

    @get(
        "/{tenant:str}/campaigns/{campaign_id:uuid}/results",
        operation_id="portalResults",
        sync_to_thread=True,
        opt=access(PUBLIC),
    )
    def results(
        self,
        request: Request[Any, Any, Any],
        campaign_id: FromPath[UUID],
        runtime: NamedDependency[TenantRuntime],
        views: NamedDependency[TenantViews],
    ) -> Template:
        """The results, public once published."""
        page = Page(request, runtime.tenant)
        campaign = runtime.ledger.get_campaign(campaign_id)
        rows: list[ShownResult] = []
        if campaign.published_at is not None:
            rows = published_results(views.db("review_board"), campaign_id)
        return page.render(
            "public/results.html",
            campaign=campaign,
            rows=_cells(rows, runtime, campaign, page),
            published=(
                written(campaign.published_at, page.zone, page.speaker)
                if campaign.published_at
                else ""
            ),
        )

    @get(
        "/{tenant:str}/campaigns/{campaign_id:uuid}/public-notice",
        operation_id="portalPublicNotice",
        sync_to_thread=True,
        opt=access(PUBLIC),
    )
    def public_notice(
        self,
        request: Request[Any, Any, Any],
        campaign_id: FromPath[UUID],
        runtime: NamedDependency[TenantRuntime],
        views: NamedDependency[TenantViews],
    ) -> Template:
        """The graded results under public notice (公示), while the notice is open."""
        page = Page(request, runtime.tenant)
        campaign = runtime.ledger.get_campaign(campaign_id)
        rows = [
            r
            for r in campaign_results(views.db("review_board"), campaign_id, {})
            if r.status == "public_notice" and r.grade
        ]
        window = campaign.timeline.get(Phase.PUBLIC_NOTICE)
        return page.render(
            "public/public_notice.html",
            campaign=campaign,
            rows=_cells(rows, runtime, campaign, page),
            window=(
                (
                    written(window.opens_at, page.zone, page.speaker) if window.opens_at else "",
                    written(window.closes_at, page.zone, page.speaker),
                )
                if window
                else None
            ),
        )

    @get("/verify", operation_id="verifyCertificatePage", sync_to_thread=True, opt=access(PUBLIC))
    def verify(
        self,
        request: Request[Any, Any, Any],
        platform: NamedDependency[Platform],
        state: State,
        code: Annotated[str, QueryParameter(max_length=64)] = "",
    ) -> Template:
        """Certificate verification: the page printed on each certificate (`/verify?code=`)."""
        code = code.strip()
        found = find_certificate(platform, code, state.settings.base_url) if code else None
        parsed = parse_certificate_code(code) if found else None
        page = Page(request, platform.registry.get(parsed[0]) if parsed else None)
        return page.render(
            "public/verify.html",
            code=code,
            found=found,
            issued=written_day(found.issued_on, page.speaker) if found else "",
        )

    @get(
        "/language/{language:str}",
        operation_id="portalLanguage",
        sync_to_thread=False,
        opt=access(PUBLIC),
    )
    def language(
        self,
        language: FromPath[str],
        next_page: Annotated[str | None, QueryParameter(name="next", max_length=500)] = None,
    ) -> Response[None]:
        """The language switch: remembered in a cookie for a year, then back to the page."""
        if language not in LANGUAGES:
            raise_not_found()
        cookie = Cookie(
            key=LANGUAGE_COOKIE,
            value=language,
            max_age=365 * 24 * 3600,
            path="/",
            samesite="lax",
            httponly=True,
        )
        return Redirect(safe_next(next_page), status_code=303, cookies=[cookie])


def raise_not_found() -> None:
    raise not_found("page")


def _timeline_context(page: Page, campaign: Campaign) -> dict[str, Any]:
    timeline = campaign.timeline
    due = countdown(timeline, page.now)
    return {
        "countdown": due.text(page.now, page.speaker) if due else "",
        "due": written(due.moment, page.zone, page.speaker) if due else "",
        "line": line(timeline, page.now, page.zone, page.speaker),
    }


def _grade_names(runtime: TenantRuntime, campaign: Campaign, page: Page) -> dict[str, str]:
    config = runtime.tenant.programmes.get(Programme(campaign.programme))
    if config is None:
        return {}
    return {g.code: g.name_en if page.speaker.english else g.name_zh for g in config.grades}


def _unit_names(runtime: TenantRuntime) -> dict[str, str]:
    return {u.code: u.name_zh for u in runtime.tenant.recommending_units}


def _cells(
    rows: Iterable[ShownResult | ResultRow], runtime: TenantRuntime, campaign: Campaign, page: Page
) -> list[tuple[str, str, str, str, str, str]]:
    """The cells of `public/_result_rows.html`, one tuple a row, with the recommending unit's
    and the grade's names looked up here: two lookups a row in the template cost it more than
    the rest of the table (2,000 rows: 311 → 120 ms to render)."""
    units, grades = _unit_names(runtime), _grade_names(runtime, campaign, page)
    return [
        (
            r.serial,
            r.unit_name,
            r.group_name,
            r.topic,
            units.get(r.recommending_unit, r.recommending_unit),
            grades.get(r.grade or "", r.grade or ""),
        )
        for r in rows
    ]
