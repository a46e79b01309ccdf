"""Signing in and out in the browser, with the API's own sign-in rules and session cookie."""

from __future__ import annotations

import secrets
from typing import Annotated, Any

import msgspec
from litestar import Controller, Request, get, post
from litestar.concurrency import sync_to_thread
from litestar.datastructures import Cookie
from litestar.di import NamedDependency
from litestar.enums import RequestEncodingType
from litestar.params import Body, QueryParameter
from litestar.response import Redirect, Template

from aggregates.problems import Problem
from api.access import PUBLIC, SIGNED_IN, Principal, access
from api.accounts import Auth, open_session, signed_out_cookies
from api.errors import RequestProblem
from api.portal.errors import FormState
from api.portal.public import safe_next
from api.portal.rendering import Page
from api.security import CSRF_FIELD, Signer
from api.sign_in import ACCOUNT_FAILURES_BEFORE_LOCK, LOCK_DURATION, check_sign_in

FORM_COOKIE = "qcflow_form"
"""A random value tying an anonymous form (sign-in) to its browser: the form's CSRF token is
signed over it, so another site cannot post a form in the reader's name."""


class SignInForm(msgspec.Struct, kw_only=True):
    """The sign-in form as posted (every field may be missing: the page says which is empty)."""

    login: str = ""
    password: str = ""
    csrf_token: str = ""
    next: str = ""


FormBody = Annotated[SignInForm, Body(media_type=RequestEncodingType.URL_ENCODED)]


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


def _sign_in_context(token: str) -> dict[str, Any]:
    """The form's token, and the lock-out rule the page states after a refusal: which login is
    locked, and until when, is never told (it would tell that the login exists; ADR 0020)."""
    return {
        "csrf_field": CSRF_FIELD,
        "form_csrf": token,
        "lock_after": ACCOUNT_FAILURES_BEFORE_LOCK,
        "lock_minutes": int(LOCK_DURATION.total_seconds() // 60),
    }


class SignInPages(Controller):
    path = "/{tenant:str}"
    include_in_schema = False

    @get("/sign-in", operation_id="portalSignInPage", sync_to_thread=True, opt=access(PUBLIC))
    def sign_in_page(
        self,
        request: Request[Any, Any, Any],
        auth: NamedDependency[Auth],
        next_page: Annotated[str | None, QueryParameter(name="next", max_length=500)] = None,
    ) -> Template:
        token, cookies = form_token(request)
        page = Page(request, auth.runtime.tenant, cookies=cookies)
        values = {"login": "", "next": safe_next(next_page, "")}
        return page.render(
            "accounts/sign_in.html",
            values=values,
            problems={},
            general_problems=[],
            **_sign_in_context(token),
        )

    @post("/sign-in", operation_id="portalSignIn", opt=access(PUBLIC))
    async def sign_in(
        self, request: Request[Any, Any, Any], data: FormBody, auth: NamedDependency[Auth]
    ) -> Redirect:
        token, cookies = form_token(request)
        page = await sync_to_thread(Page, request, auth.runtime.tenant, cookies=cookies)
        login = data.login.strip()
        request.state.form = FormState(
            template="accounts/sign_in.html",
            fields=("login", "password"),
            values={"login": login, "next": safe_next(data.next, "")},  # never the password
            context=_sign_in_context(token),
            page=page,
        )
        if cookies or data.csrf_token != token:
            raise RequestProblem(403, Problem(CSRF_FIELD, "csrf", "页面已过期，请重新提交"))
        empty = [
            Problem(name, "required", "不能为空")
            for name in ("login", "password")
            if not getattr(data, name).strip()
        ]
        if empty:
            raise RequestProblem(422, *empty)
        account = await check_sign_in(auth, login, data.password, auth.address(request))
        _, session_cookies = await sync_to_thread(open_session, auth, account)
        home = f"/{auth.runtime.tenant.code}/"
        return Redirect(safe_next(data.next, home), status_code=303, cookies=session_cookies)

    @post("/sign-out", operation_id="portalSignOut", sync_to_thread=True, opt=access(SIGNED_IN))
    def sign_out(self, request: Request[Any, Any, Any], auth: NamedDependency[Auth]) -> Redirect:
        principal: Principal = request.state.principal
        auth.store.revoke_session(principal.session_id, auth.now)
        return Redirect(
            f"/{auth.runtime.tenant.code}/", status_code=303, cookies=signed_out_cookies()
        )
