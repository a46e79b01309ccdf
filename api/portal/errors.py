"""Errors on pages: a refused form is shown again with each problem beside its field and the
input kept; a missing page is a 404 page; a page that needs a session sends the reader to sign
in; anything unexpected is a plain page with the request id, never a traceback.

Page handlers have no try/except, like the API's: before a command, a form handler records on
the request what to show again if it is refused (`FormState`, built by `forms.FormPage`); the
refusal travels here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

import structlog
from litestar import Request, Response
from litestar.exceptions import HTTPException, ValidationException

from aggregates.problems import Conflict, DomainError, InvalidInput, NotFound, Problem
from api.platform.errors import RequestProblem, internal_error
from api.portal import labels
from api.portal.rendering import Page, Viewer, speaker_of

log = structlog.get_logger(__name__)


@dataclass
class FormState:
    """A form being submitted: its template and context, the fields it shows (a problem of
    another field is shown above the form), the input to keep, and what else to show when a
    command is refused (`on_refusal`, given the problems)."""

    template: str
    fields: tuple[str, ...]
    values: dict[str, Any]
    context: dict[str, Any] = field(default_factory=dict)
    page: Page | None = None
    on_refusal: Callable[[tuple[Problem, ...]], dict[str, Any]] | None = None


def refusal_status(exc: DomainError | RequestProblem) -> int:
    if isinstance(exc, RequestProblem):
        return exc.status_code
    for kind, status in ((InvalidInput, 422), (NotFound, 404), (Conflict, 409)):
        if isinstance(exc, kind):
            return status
    return 400


def refused(request: Request[Any, Any, Any], exc: DomainError | RequestProblem) -> Response[Any]:
    status = refusal_status(exc)
    form: FormState | None = request.state.get("form")
    if form is None or form.page is None:
        if status == 401:
            return sign_in_first(request)
        if status == 404:
            return not_found_page(request)
        speaker = speaker_of(request)
        return error_page(request, status, [labels.problem(speaker, p) for p in exc.problems])
    speaker = form.page.speaker
    extra = form.on_refusal(exc.problems) if form.on_refusal else {}
    beside: dict[str, list[str]] = {}
    above: list[str] = []
    for problem in exc.problems:
        text = extra.get("messages", {}).get(problem.rule) or labels.problem(speaker, problem)
        if problem.field in form.fields:
            beside.setdefault(problem.field, []).append(text)
        else:
            above.append(text)
    context = {**form.context, **{k: v for k, v in extra.items() if k != "messages"}}
    return form.page.render(
        form.template,
        status=status,
        **context,
        values=form.values,
        problems=beside,
        general_problems=above,
    )


def sign_in_first(request: Request[Any, Any, Any]) -> Response[Any]:
    """401 with a page that leads to the tenant's sign-in and back here."""
    tenant = request.path_params.get("tenant")
    if not isinstance(tenant, str):
        return not_found_page(request)
    here = request.url.path if request.method == "GET" else f"/{tenant}/"
    return Page(request, viewer=Viewer()).render(
        "errors/sign_in_first.html", status=401, sign_in=f"/{tenant}/sign-in?next={quote(here)}"
    )


def not_found_page(request: Request[Any, Any, Any]) -> Response[Any]:
    """Inside a known tenant the page keeps its layout (the signed-in person, the navigation)
    and leads back to the tenant's home; elsewhere, to the list of associations."""
    code = request.path_params.get("tenant")
    runtime = request.app.state.platform.tenants.get(code) if isinstance(code, str) else None
    if runtime is None:
        return Page(request, viewer=Viewer()).render("errors/not_found.html", status=404, home="/")
    return Page(request, runtime.tenant).render(
        "errors/not_found.html", status=404, home=f"/{runtime.tenant.code}/"
    )


def error_page(request: Request[Any, Any, Any], status: int, messages: list[str]) -> Response[Any]:
    return Page(request, viewer=Viewer()).render(
        "errors/refused.html", status=status, messages=messages
    )


def unexpected(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    """A plain page with the request id (logged with the traceback, shown without it)."""
    log.exception("page_failed", error_type=type(exc).__name__)
    request_id = structlog.contextvars.get_contextvars().get("request_id", "")
    try:
        return Page(request, viewer=Viewer()).render(
            "errors/unexpected.html", status=500, request_id=request_id
        )
    except Exception:  # the page itself failed (e.g. the store is down): the API's plain answer
        return internal_error(request, exc)


def http_error(request: Request[Any, Any, Any], exc: HTTPException) -> Response[Any]:
    if exc.status_code == 404:
        return not_found_page(request)
    if exc.status_code >= 500:
        return unexpected(request, exc)
    return error_page(request, exc.status_code, [str(exc.detail)])


def malformed(request: Request[Any, Any, Any], exc: ValidationException) -> Response[Any]:
    """A form whose body does not decode: shown again, if known, with the problem above it."""
    problem = Problem("body", "malformed", "提交的内容格式不正确")
    return refused(request, RequestProblem(400, problem))


PAGE_EXCEPTION_HANDLERS: dict[Any, Any] = {
    DomainError: refused,
    RequestProblem: refused,
    ValidationException: malformed,
    HTTPException: http_error,
    Exception: unexpected,
}


def is_page_request(request: Request[Any, Any, Any]) -> bool:
    """Outside the API and the schema, a browser asking for HTML gets pages for its errors."""
    path = request.url.path
    if path.startswith(("/api/", "/schema", "/health", "/metrics")):
        return False
    return "text/html" in request.headers.get("accept", "")


def page_or_problem(
    api_handler: Callable[[Request[Any, Any, Any], Any], Response[Any]],
) -> Callable[[Request[Any, Any, Any], Any], Response[Any]]:
    """The app-wide handler for errors raised before any route (no such path, no such method):
    a page for a browser outside the API, the API's problem otherwise."""

    def handle(request: Request[Any, Any, Any], exc: Any) -> Response[Any]:
        if is_page_request(request) and isinstance(exc, HTTPException):
            return http_error(request, exc)
        return api_handler(request, exc)

    return handle
