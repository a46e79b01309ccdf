"""A page's form posted: the one pattern of the portal's POST handlers. The form names the
page it is posted from (`FormPage`: its template and context); its command runs; refused, that
page is shown again with each problem beside its field and the input kept (`errors.refused`);
done, the browser is sent back with a 303 (post/redirect/get), usually with a `?done=` flag.

    form = FormPage("grading/result.html", context, fields=("grade", "reason"), values=values)
    return await form.submit(request, runtime.tenant, command, done=f"{here}?done=overridden")

Handlers have no try/except (the exception handlers of `errors.py` show the refusal); the CSRF
token of a signed-in form is checked by the access guard before the handler
(`api.platform.access`), an anonymous form's by `check_form_token`."""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Annotated, Any, TypeVar

import msgspec
from litestar import Request
from litestar.concurrency import sync_to_thread
from litestar.datastructures import Cookie
from litestar.enums import RequestEncodingType
from litestar.params import Body
from litestar.response import Redirect, Template

from aggregates.problems import Problem
from api.platform.errors import RequestProblem
from api.platform.security import CSRF_FIELD, Signer
from api.portal.errors import FormState
from api.portal.rendering import Page
from tenants.registry import Tenant

T = TypeVar("T")


class PortalForm(msgspec.Struct, kw_only=True):
    """A portal form as posted (URL-encoded). Posted as it is, a button's form, whose only field
    is the CSRF token (which the access guard has checked); subclasses add the form's fields.
    Every field may be missing (the page says which is empty, never a 400), and fields the
    struct does not name are ignored (a page may post more than one handler reads)."""

    csrf_token: str = ""


F = TypeVar("F", bound=PortalForm)
Posted = Annotated[F, Body(media_type=RequestEncodingType.URL_ENCODED)]
"""A handler's `data` read from the posted form: `data: Posted[PortalForm]`."""
PostedFields = Annotated[dict[str, str], Body(media_type=RequestEncodingType.URL_ENCODED)]
"""A form whose fields vary (a rubric's criteria): every field as posted, as text."""


@dataclass(frozen=True)
class FormPage:
    """The page a form is posted from, as it is shown again when the command is refused: its
    template; its context (built once the page is known: a record that is not found answers a
    404 page before the form is recorded); the fields a problem is shown beside (a problem of
    another field stands above the form); the values shown (the input kept; on a first showing
    the record's own); what else to show, given the problems (`on_refusal`: `messages` by
    rule, or more context). The template, the fields and the values may each be given as what
    chooses them from the context (a page that changes with its record's state, a form whose
    fields follow its record's checklist, a form first filled from its record)."""

    template: str | Callable[[Mapping[str, Any]], str]
    context: Callable[[Page], Mapping[str, Any]]
    fields: Sequence[str] | Callable[[Mapping[str, Any]], Sequence[str]] = ()
    values: Mapping[str, Any] | Callable[[Mapping[str, Any]], Mapping[str, Any]] = field(
        default_factory=dict
    )
    on_refusal: Callable[[Page, tuple[Problem, ...]], dict[str, Any]] | None = None

    def show(self, request: Request[Any, Any, Any], tenant: Tenant, **more: Any) -> Template:
        """The page as it is first shown (a GET): its context and `more`, the values, no
        problem."""
        page = Page(request, tenant)
        context = dict(self.context(page))
        return page.render(
            self._template(context),
            **{
                **context,
                "values": self._values(context),
                "problems": {},
                "general_problems": [],
                **more,
            },
        )

    def _template(self, context: Mapping[str, Any]) -> str:
        return self.template if isinstance(self.template, str) else self.template(context)

    def _values(self, context: Mapping[str, Any]) -> dict[str, Any]:
        return dict(self.values(context) if callable(self.values) else self.values)

    def enter(
        self, request: Request[Any, Any, Any], tenant: Tenant, cookies: Sequence[Cookie] = ()
    ) -> tuple[Page, dict[str, Any]]:
        """The page and its context, with this form recorded on the request: a refusal from here
        on shows it again (a handler that answers with a page, not a redirect, starts here)."""
        page = Page(request, tenant, cookies=list(cookies))
        context = dict(self.context(page))
        on_refusal = self.on_refusal
        request.state.form = FormState(
            template=self._template(context),
            fields=tuple(self.fields(context) if callable(self.fields) else self.fields),
            values=self._values(context),
            context=context,
            page=page,
            on_refusal=(lambda found: on_refusal(page, found)) if on_refusal else None,
        )
        return page, context

    def run(
        self,
        request: Request[Any, Any, Any],
        tenant: Tenant,
        command: Callable[[], T],
        done: str | Callable[[T], str],
    ) -> Redirect:
        """Run the command from this form (in this thread); done, 303 to `done` (or to where
        `done` says, given what the command returned)."""
        self.enter(request, tenant)
        result = command()
        return Redirect(done if isinstance(done, str) else done(result), status_code=303)

    async def submit(
        self,
        request: Request[Any, Any, Any],
        tenant: Tenant,
        command: Callable[[], T],
        done: str | Callable[[T], str],
    ) -> Redirect:
        """`run` in a worker thread (the ledger is synchronous), for an async handler."""
        return await sync_to_thread(self.run, request, tenant, command, done)


def said(page: Page, words: Mapping[str, str], flag: str | None) -> str:
    """A redirect's `?done=` flag as the page says it, in the reader's language (nothing for
    no flag or one the page does not know)."""
    return page.speaker.gettext(words[flag]) if flag is not None and flag in words else ""


def typed_fields(data: Mapping[str, str]) -> dict[str, str]:
    """A form's fields as typed (`PostedFields`), without its CSRF token."""
    return {k: v for k, v in data.items() if k != CSRF_FIELD}


def stripped(form: Any, *names: str) -> dict[str, str]:
    """The named fields of a posted form as text without surrounding spaces ('' if missing;
    an upload in a text field is none)."""
    values = {}
    for name in names:
        value = form.get(name)
        values[name] = value.strip() if isinstance(value, str) else ""
    return values


def version_of(value: Any) -> int | None:
    """The version a form was read at (0: nothing saved yet); none when not given."""
    text = value if isinstance(value, str) else ""
    return int(text) if text.isdigit() else None


def refuse(problems: Iterable[Problem]) -> None:
    """Refuse the form (422) with these problems, if there are any: the command is not run."""
    found = tuple(problems)
    if found:
        raise RequestProblem(422, *found)


FORM_COOKIE = "qcflow_form"
"""A random value tying an anonymous form (sign-in) to its browser: the form's CSRF token is
signed over it, so another site cannot post a form in the reader's name."""


def form_token(request: Request[Any, Any, Any]) -> tuple[str, list[Cookie]]:
    """The anonymous form's CSRF token, and the cookie to set when the browser has none yet."""
    signer: Signer = request.app.state.signer
    nonce = request.cookies.get(FORM_COOKIE)
    cookies = []
    if not nonce:
        nonce = secrets.token_urlsafe(24)
        cookies.append(
            Cookie(key=FORM_COOKIE, value=nonce, httponly=True, samesite="strict", path="/")
        )
    return signer.csrf_token(f"form.{nonce}"), cookies


def check_form_token(token: str, cookies: Sequence[Cookie], posted: object) -> None:
    """An anonymous form's token as posted against the browser's (a browser that had no form
    cookie yet cannot have posted a good one): 403, the page shown again to post it anew."""
    if cookies or posted != token:
        raise RequestProblem(403, Problem(CSRF_FIELD, "csrf", "页面已过期，请重新提交"))
