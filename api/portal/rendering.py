"""How a page is rendered: the Jinja environment, the reader's language, who is signed in, the
navigation for their role, and the context every template shares (the base layout's)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from jinja2 import Environment, FileSystemLoader, StrictUndefined
from litestar import Request
from litestar.datastructures import Cookie
from litestar.plugins.jinja import JinjaTemplateEngine
from litestar.response import Template
from litestar.template.config import TemplateConfig

from aggregates.actor import Role
from api.access import Principal, authenticate
from api.errors import RequestProblem
from api.portal import labels
from api.portal.clock import written, zone_name
from api.portal.i18n import (
    LANGUAGE_COOKIE,
    LANGUAGE_NAMES,
    LANGUAGES,
    Speaker,
    choose_language,
)
from api.security import SESSION_COOKIE, Signer
from tenants.registry import Level, Tenant
from tenants.runtime import Platform

TEMPLATES = Path(__file__).parent / "templates"
STATIC = Path(__file__).parent / "static"
STATIC_PATH = "/static"
HTMX = f"{STATIC_PATH}/vendor/htmx-2.0.11/htmx.min.js"
BEIJING = ZoneInfo("Asia/Shanghai")


@cache
def environment() -> Environment:
    """One environment for every language: the translating callables come with each page's
    context (they are the reader's language), so templates are compiled once."""
    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=True,
        undefined=StrictUndefined,
        extensions=["jinja2.ext.i18n"],
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.extend(newstyle_gettext=True)
    return env


def template_config() -> TemplateConfig[JinjaTemplateEngine]:
    return TemplateConfig(instance=JinjaTemplateEngine.from_environment(environment()))


def speaker_of(request: Request[Any, Any, Any]) -> Speaker:
    return Speaker(
        choose_language(
            request.cookies.get(LANGUAGE_COOKIE), request.headers.get("accept-language")
        )
    )


@dataclass(frozen=True)
class NavItem:
    """A link of the navigation: shown to everyone (`roles` None), or to the signed-in holders of
    one of `roles`. `href` may name `{tenant}`."""

    label: str
    href: str
    roles: frozenset[Role] | None = None
    needs_tenant: bool = False
    national_label: str | None = None
    """The label in the national association, where the same page is another task."""


NAVIGATION: list[NavItem] = [
    NavItem(labels.N_("协会首页"), "/{tenant}/", needs_tenant=True),
    NavItem(labels.N_("全部协会"), "/"),
    NavItem(labels.N_("证书查验"), "/verify"),
    NavItem(
        labels.N_("我的申报"),
        "/{tenant}/applicant/",
        roles=frozenset((Role.APPLICANT_UNIT,)),
        needs_tenant=True,
    ),
    NavItem(labels.N_("我的账号"), "/{tenant}/account", frozenset(Role), needs_tenant=True),
    NavItem(
        labels.N_("单位身份核验"),
        "/{tenant}/enterprise-claims",
        frozenset((Role.SECRETARIAT, Role.RECOMMENDING_UNIT, Role.AUDITOR)),
        needs_tenant=True,
    ),
    NavItem(
        labels.N_("推荐全国"),
        "/{tenant}/national/",
        frozenset((Role.SECRETARIAT, Role.AUDITOR, Role.NATIONAL_STAFF)),
        needs_tenant=True,
        national_label=labels.N_("全国接收"),
    ),
    NavItem(
        labels.N_("审计"),
        "/{tenant}/audit",
        frozenset((Role.AUDITOR, Role.SECRETARIAT)),
        needs_tenant=True,
    ),
    NavItem(
        labels.N_("开设活动"),
        "/{tenant}/secretariat/campaigns/new",
        frozenset((Role.SECRETARIAT,)),
        needs_tenant=True,
    ),
    NavItem(
        labels.N_("统计表与工作总结"),
        "/{tenant}/unit-reports",
        frozenset((Role.RECOMMENDING_UNIT,)),
        needs_tenant=True,
    ),
    NavItem(labels.N_("评审"), "/{tenant}/review/", frozenset((Role.SECRETARIAT,)), True),
    NavItem(
        labels.N_("评审专家库"), "/{tenant}/review/experts", frozenset((Role.SECRETARIAT,)), True
    ),
    NavItem(
        labels.N_("推荐通道"),
        "/{tenant}/recommending/",
        frozenset((Role.RECOMMENDING_UNIT,)),
        needs_tenant=True,
    ),
    NavItem(
        labels.N_("账号与邀请"),
        "/{tenant}/staff/accounts/",
        frozenset((Role.SECRETARIAT,)),
        needs_tenant=True,
    ),
    NavItem(
        labels.N_("推荐决定"),
        "/{tenant}/decisions/",
        frozenset((Role.SECRETARIAT,)),
        needs_tenant=True,
    ),
    NavItem(
        labels.N_("活动工作台"),
        "/{tenant}/secretariat/campaigns",
        frozenset((Role.SECRETARIAT, Role.AUDITOR)),
        needs_tenant=True,
    ),
    # rounds: the secretariat's review rounds; the reviewer's queue.
    NavItem(
        labels.N_("评审轮次"),
        "/{tenant}/rounds/",
        frozenset((Role.SECRETARIAT, Role.AUDITOR)),
        needs_tenant=True,
    ),
    NavItem(labels.N_("我的评审"), "/{tenant}/reviewer/", frozenset((Role.REVIEWER,)), True),
    NavItem(
        labels.N_("等级认定与发布"),
        "/{tenant}/grading/",
        frozenset((Role.SECRETARIAT, Role.AUDITOR)),
        needs_tenant=True,
    ),
    NavItem(
        labels.N_("发表赛"),
        "/{tenant}/contest/",
        frozenset((Role.SECRETARIAT, Role.REVIEWER)),
        needs_tenant=True,
    ),
    NavItem(
        labels.N_("统计"),
        "/{tenant}/statistics/",
        frozenset((Role.SECRETARIAT, Role.AUDITOR, Role.RECOMMENDING_UNIT)),
        needs_tenant=True,
    ),
]
"""The channels add their pages here, each with the roles that use it."""


@dataclass(frozen=True)
class Viewer:
    """Who reads the page: signed in (a principal) or not."""

    principal: Principal | None = None
    csrf: str = ""

    @property
    def signed_in(self) -> bool:
        return self.principal is not None

    @property
    def name(self) -> str:
        return self.principal.account.name if self.principal else ""

    @property
    def tenant(self) -> str:
        return self.principal.tenant if self.principal else ""

    @property
    def role(self) -> Role | None:
        held = self.principal.roles if self.principal else set()
        return min(held) if held else None


def viewer_of(request: Request[Any, Any, Any]) -> Viewer:
    """The signed-in principal (set by the access guard on signed-in routes; on public pages read
    from the session cookie, if any, and ignored when it is no longer valid)."""
    principal: Principal | None = request.state.get("principal")
    if principal is None and request.cookies.get(SESSION_COOKIE):
        try:
            principal = authenticate(request)
        except RequestProblem:
            principal = None
    if principal is None:
        return Viewer()
    signer: Signer = request.app.state.signer
    return Viewer(principal, signer.csrf_token(principal.session_id))


def navigation(viewer: Viewer, tenant: Tenant | None, speaker: Speaker) -> list[dict[str, str]]:
    held = viewer.principal.roles if viewer.principal else set()
    items = []
    for item in NAVIGATION:
        if item.roles is not None and not (held & item.roles):
            continue
        if item.needs_tenant and tenant is None:
            continue
        href = item.href.format(tenant=tenant.code if tenant else "")
        national = tenant is not None and tenant.level is Level.NATIONAL
        label = item.national_label if national and item.national_label else item.label
        items.append({"label": speaker.gettext(label), "href": href})
    return items


def now_of(request: Request[Any, Any, Any], tenant: Tenant | None) -> datetime:
    """Business time from the platform's clock (the tests and the demo set it)."""
    platform: Platform = request.app.state.platform
    runtime = platform.get(tenant.code) if tenant else next(iter(platform.tenants.values()), None)
    return runtime.ledger.clock() if runtime else datetime.now(BEIJING)


@dataclass
class Page:
    """What the base layout needs of every page, and the page's own context."""

    request: Request[Any, Any, Any]
    tenant: Tenant | None = None
    viewer: Viewer | None = None
    cookies: list[Cookie] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.speaker = speaker_of(self.request)
        if self.viewer is None:
            self.viewer = viewer_of(self.request)
        self.zone = self.tenant.zone if self.tenant else BEIJING
        self.now = now_of(self.request, self.tenant)

    def context(self, values: Mapping[str, Any]) -> dict[str, Any]:
        viewer = self.viewer or Viewer()
        speaker = self.speaker
        shown = viewer if not self.tenant or viewer.tenant == self.tenant.code else Viewer()
        path = self.request.url.path
        query = self.request.url.query
        return {
            **speaker.template_callables(),
            "lang": speaker.language,
            "english": speaker.english,
            "languages": [(code, LANGUAGE_NAMES[code]) for code in LANGUAGES],
            "here": f"{path}?{query}" if query else path,
            "tenant": self.tenant,
            "tenant_name": (
                (self.tenant.name_en if speaker.english else self.tenant.name_zh)
                if self.tenant
                else speaker.gettext("群众性质量活动平台")
            ),
            "viewer": shown,
            "viewer_role": labels.role(speaker, shown.role) if shown.role else "",
            "nav": navigation(shown, self.tenant, speaker),
            "now_text": written(self.now, self.zone, speaker),
            "zone_text": zone_name(self.zone, speaker),
            "htmx": HTMX,
            "static": STATIC_PATH,
            **values,
        }

    def render(self, template: str, status: int = 200, **values: Any) -> Template:
        return Template(
            template_name=template,
            context=self.context(values),
            status_code=status,
            cookies=self.cookies,
        )
