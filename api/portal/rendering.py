"""How a page is rendered: the Jinja environment, the reader's language, who is signed in, and the
context every template shares (the base layout's, with the navigation of `navigation.py`)."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
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
from api.platform.access import Principal, authenticate_alone, signed_in_principal
from api.platform.errors import RequestProblem
from api.platform.security import SESSION_COOKIE, Signer
from api.portal import labels
from api.portal.clock import written, zone_name
from api.portal.i18n import (
    LANGUAGE_COOKIE,
    LANGUAGE_NAMES,
    LANGUAGES,
    Speaker,
    choose_language,
)
from api.portal.navigation import navigation
from tenants.registry import Tenant
from tenants.runtime import Platform

TEMPLATES = Path(__file__).parent / "templates"
STATIC = Path(__file__).parent / "static"
STATIC_PATH = "/static"


@cache
def asset(name: str) -> str:
    """A static file's address as a page names it: with a digest of the file's content, so a
    browser keeps the file for a year (`portal_router`'s Cache-Control, no request per page) and
    a release that changes it is fetched at once under its new address. Read once per process:
    a file edited while the server runs is named anew at its next start."""
    digest = hashlib.sha256((STATIC / name).read_bytes()).hexdigest()[:12]
    return f"{STATIC_PATH}/{name}?v={digest}"


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
    env.concat = _plain_join  # type: ignore[method-assign]
    return env


def _plain_join(pieces: Iterable[str]) -> str:
    """A page's pieces joined as Jinja joins them, each taken as a plain str as it comes. Under
    autoescape every `{{ … }}` yields a Markup, an object the garbage collector tracks (a str is
    not), and `"".join` holds them all until the page's end: a page of thousands of cells kept
    thousands of them alive, which the collector scanned and promoted to older generations at
    each collection during the render, and which set off full collections of the whole process
    (the statistics page's tail, issue 21). The text is the same."""
    return "".join(map(str, pieces))


def template_config() -> TemplateConfig[JinjaTemplateEngine]:
    return TemplateConfig(instance=JinjaTemplateEngine.from_environment(environment()))


def speaker_of(request: Request[Any, Any, Any]) -> Speaker:
    return Speaker(
        choose_language(
            request.cookies.get(LANGUAGE_COOKIE), request.headers.get("accept-language")
        )
    )


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
    principal = signed_in_principal(request)
    if principal is None and request.cookies.get(SESSION_COOKIE):
        try:
            principal = authenticate_alone(request)
        except RequestProblem:
            principal = None
    if principal is None:
        return Viewer()
    signer: Signer = request.app.state.signer
    return Viewer(principal, signer.csrf_token(principal.session_id))


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
            "nav": navigation(
                shown.principal.roles if shown.principal else set(), self.tenant, speaker, path
            ),
            "now_text": written(self.now, self.zone, speaker),
            "zone_text": zone_name(self.zone, speaker),
            "asset": asset,
            **values,
        }

    def render(self, template: str, status: int = 200, **values: Any) -> Template:
        return Template(
            template_name=template,
            context=self.context(values),
            status_code=status,
            cookies=self.cookies,
        )
