"""Accounts in the browser: signing in and out (the API's own sign-in rules and session cookie),
an applicant unit's self-registration and its confirmation, accepting an invitation, password
reset and change, and "my account" (roles held, where the claim to speak for the enterprise
stands, claiming again, inviting colleagues). Each form calls the same command as the API.

No password is ever shown again or mailed: a refused form keeps every field but the passwords."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

from litestar import Controller, Request, get, post
from litestar.concurrency import sync_to_thread
from litestar.datastructures import UploadFile
from litestar.di import NamedDependency
from litestar.params import QueryParameter
from litestar.response import Redirect, Template

from aggregates.actor import Actor, Role
from aggregates.credentials import MAX_LENGTH, MIN_LENGTH, password_problems
from aggregates.credit_code import (
    ALPHABET,
    LENGTH,
    check_character,
    credit_code_problems,
    normalise,
)
from aggregates.enterprise_claim import ClaimDocument, ClaimStatus
from aggregates.problems import Problem
from api.accounts.enterprise_claims import claim_again, invite_colleague
from api.accounts.routes import (
    Auth,
    accept_invitation,
    confirm_registration,
    mail_reset,
    open_session,
    register_applicant_unit,
    reset_password,
    signed_out_cookies,
)
from api.accounts.schemas import CLAIM_FILE_MAX_BYTES, ClaimFileIn
from api.accounts.sign_in import ACCOUNT_FAILURES_BEFORE_LOCK, LOCK_DURATION, check_sign_in
from api.platform.access import PUBLIC, SIGNED_IN, access, only, principal_of
from api.platform.records import Records
from api.platform.security import CSRF_FIELD
from api.portal import labels
from api.portal.forms import (
    FormPage,
    PortalForm,
    Posted,
    check_form_token,
    form_token,
    refuse,
)
from api.portal.i18n import Speaker
from api.portal.labels import N_
from api.portal.public import safe_next
from api.portal.rendering import Page, Viewer
from projections.service import TenantViews
from tenants.files import FileStore


class SignInForm(PortalForm):
    """The sign-in form as posted (every field may be missing: the page says which is empty)."""

    login: str = ""
    password: str = ""
    next: str = ""


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
        """The sign-in form (the page asked for kept in `next`)."""
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
        self,
        request: Request[Any, Any, Any],
        data: Posted[SignInForm],
        auth: NamedDependency[Auth],
    ) -> Redirect:
        """The API's sign-in rules (lock-out, throttling); signed in, the page asked for."""
        token, cookies = form_token(request)
        login = data.login.strip()
        form = FormPage(
            "accounts/sign_in.html",
            lambda page: _sign_in_context(token),
            fields=("login", "password"),
            values={"login": login, "next": safe_next(data.next, "")},  # never the password
        )
        await sync_to_thread(form.enter, request, auth.runtime.tenant, cookies)
        check_form_token(token, cookies, data.csrf_token)
        refuse(
            Problem(name, "required", "不能为空")
            for name in ("login", "password")
            if not getattr(data, name).strip()
        )
        account = await check_sign_in(auth, login, data.password, auth.address(request))
        _, session_cookies = await sync_to_thread(open_session, auth, account)
        home = f"/{auth.runtime.tenant.code}/"
        return Redirect(safe_next(data.next, home), status_code=303, cookies=session_cookies)

    @post("/sign-out", operation_id="portalSignOut", sync_to_thread=True, opt=access(SIGNED_IN))
    def sign_out(self, request: Request[Any, Any, Any], auth: NamedDependency[Auth]) -> Redirect:
        principal = principal_of(request)
        auth.store.revoke_session(principal.session_id, auth.now)
        return Redirect(
            f"/{auth.runtime.tenant.code}/", status_code=303, cookies=signed_out_cookies()
        )


class CodeForm(PortalForm):
    """The account forms posted as URL-encoded fields (each form uses some; any may be
    missing: the page says which is empty)."""

    login: str = ""
    name: str = ""
    token: str = ""
    password: str = ""
    password_again: str = ""
    current_password: str = ""
    credit_code: str = ""


CodeBody = Posted[CodeForm]


# The words of the account forms' refusals in English (in Chinese, the domain's message is shown
# as is). Those carrying values are worded again from what was typed.
ACCOUNT_PROBLEMS = {
    "mismatch": N_("两次输入的密码不一致"),
    "email_format": N_("登录名须为电子邮箱"),
    "character_classes": N_(
        "密码须包含大写字母、小写字母、数字、符号中的至少三类（16 位以上不限）"
    ),
    "common": N_("密码过于常见，容易被猜中"),
    "personal": N_("密码不能包含登录名或姓名"),
    "content_type": N_("文件须为 PDF、JPEG 或 PNG"),
    "too_large": N_("文件不能超过 10 MB"),
    "invalid_token": N_("确认码无效、已使用或已过期"),
    "charset": N_("统一社会信用代码只用数字和大写字母（不用 I、O、Z、S、V）"),
    "registration_authority": N_("统一社会信用代码第 1 位（登记管理部门代码）无效"),
    "wrong": N_("当前密码不正确"),
    "taken": N_("该登录名已被注册"),
    "claim_pending": N_("本账号的申请正在核验中"),
    "already_verified": N_("本账号已代表该单位，无需再次申请"),
    "awaiting_verification": N_("本账号代表该单位的身份尚待核验"),
    "claim_refused": N_("本账号代表该单位的申请未通过核验"),
    "no_pending_claim": N_("该账号没有待核验的申请"),
    "throttled": N_("操作过于频繁，请稍后再试"),
    "too_long": N_("原因不超过 500 字"),
}


def in_english(
    speaker: Speaker, problems: tuple[Problem, ...], credit_code: str = ""
) -> dict[str, str]:
    """The English of the refusals by rule (nothing in Chinese: the domain's own words)."""
    if not speaker.english:
        return {}
    words = {rule: speaker.gettext(text) for rule, text in ACCOUNT_PROBLEMS.items()}
    code = normalise(credit_code)
    words["length"] = speaker.gettext(
        "统一社会信用代码应为 %(length)s 位，实际为 %(actual)s 位"
    ) % {"length": LENGTH, "actual": len(code)}
    words["min_length"] = speaker.gettext("密码至少 %(n)s 位") % {"n": MIN_LENGTH}
    words["max_length"] = speaker.gettext("密码不超过 %(n)s 位") % {"n": MAX_LENGTH}
    if len(code) == LENGTH and all(c in ALPHABET for c in code):
        words["check_character"] = speaker.gettext(
            "统一社会信用代码校验码应为 %(expected)s，实际为 %(actual)s，请核对前 17 位是否录入有误"
        ) % {"expected": check_character(code[:-1]), "actual": code[-1]}
    return {rule: words[rule] for rule in {p.rule for p in problems} if rule in words}


def english_words(page: Page, problems: tuple[Problem, ...]) -> dict[str, Any]:
    """A form's `on_refusal`: the English of its refusals by rule (`in_english`)."""
    return {"messages": in_english(page.speaker, problems)}


def _required(values: dict[str, str], *names: str) -> list[Problem]:
    return [Problem(name, "required", "不能为空") for name in names if not values.get(name)]


def _new_password(password: str, again: str, *personal: str) -> list[Problem]:
    """The new password's strength (the domain's rule) and its repetition."""
    if not password:
        return [Problem("password", "required", "不能为空")]
    problems = password_problems(password, *personal)
    if password != again:
        problems.append(Problem("password_again", "mismatch", "两次输入的密码不一致"))
    return problems


def _text(form: Any, name: str) -> str:
    value = form.get(name)
    return value.strip() if isinstance(value, str) else ""


def _raw(form: Any, name: str) -> str:
    value = form.get(name)
    return value if isinstance(value, str) else ""


async def _documents(form: Any) -> tuple[dict[ClaimDocument, ClaimFileIn], list[Problem]]:
    """The claim's two documents as uploaded, or why one is missing or too large (its kind is
    checked from its content when received, as for the API)."""
    documents: dict[ClaimDocument, ClaimFileIn] = {}
    problems = []
    for document in ClaimDocument:
        upload = form.get(document.value)
        content = await upload.read() if isinstance(upload, UploadFile) else b""
        if not content:
            problems.append(Problem(document.value, "required", "请选择要上传的文件"))
        elif len(content) > CLAIM_FILE_MAX_BYTES:
            problems.append(Problem(document.value, "too_large", "文件不能超过 10 MB"))
        else:
            name = (upload.filename or document.value).strip()[:200]
            documents[document] = ClaimFileIn(name=name, content=content)
    return documents, problems


DOCUMENT_FIELDS = (
    "business_licence",
    "business_licence.content",
    "authorisation_letter",
    "authorisation_letter.content",
)
REGISTRATION_FIELDS = (
    "login",
    "name",
    "password",
    "password_again",
    "enterprise_name",
    "credit_code",
    *DOCUMENT_FIELDS,
)
CLAIM_STATES = {
    ClaimStatus.AWAITING_VERIFICATION: N_("待核验"),
    ClaimStatus.VERIFIED: N_("已核验"),
    ClaimStatus.REFUSED: N_("未通过核验"),
}


class AccountPages(Controller):
    """The forms anyone may fill in (registration, confirmation, invitation, reset) and the
    signed-in account's own page."""

    path = "/{tenant:str}"
    include_in_schema = False

    async def _form(
        self,
        request: Request[Any, Any, Any],
        auth: Auth,
        template: str,
        fields: tuple[str, ...],
        values: dict[str, str],
        posted_token: str,
        credit_code: str = "",
        **context: Any,
    ) -> Page:
        """An anonymous form posted: what to show again if refused, and its token checked."""
        token, cookies = form_token(request)
        form = FormPage(
            template,
            lambda page: {"csrf_field": CSRF_FIELD, "form_csrf": token, **context},
            fields=fields,
            values=values,
            on_refusal=lambda page, found: {
                "messages": in_english(page.speaker, found, credit_code)
            },
        )
        page, _ = await sync_to_thread(form.enter, request, auth.runtime.tenant, cookies)
        check_form_token(token, cookies, posted_token)
        return page

    def _blank(
        self, request: Request[Any, Any, Any], auth: Auth, template: str, **values: Any
    ) -> Template:
        token, cookies = form_token(request)
        page = Page(request, auth.runtime.tenant, cookies=cookies)
        return page.render(
            template,
            csrf_field=CSRF_FIELD,
            form_csrf=token,
            problems={},
            general_problems=[],
            **values,
        )

    # Self-registration.

    @get(
        "/registration",
        operation_id="portalRegistrationPage",
        sync_to_thread=True,
        opt=access(PUBLIC),
    )
    def registration_page(
        self, request: Request[Any, Any, Any], auth: NamedDependency[Auth]
    ) -> Template:
        """An applicant unit's self-registration: the account, the enterprise, its licence and
        letter."""
        return self._blank(request, auth, "accounts/register.html", values={})

    @get(
        "/registration/credit-code",
        operation_id="portalCheckCreditCode",
        sync_to_thread=True,
        opt=access(PUBLIC),
    )
    def check_credit_code(
        self,
        request: Request[Any, Any, Any],
        auth: NamedDependency[Auth],
        credit_code: Annotated[str, QueryParameter(max_length=60)] = "",
    ) -> Template:
        """The code checked as it is typed (GB 32100-2015): the message beside the field."""
        page = Page(request, auth.runtime.tenant)
        problems = tuple(credit_code_problems(credit_code))
        english = in_english(page.speaker, problems, credit_code)
        messages = [english.get(p.rule) or labels.problem(page.speaker, p) for p in problems]
        return page.render(
            "accounts/_credit_code_check.html", messages=messages, typed=bool(credit_code.strip())
        )

    @post(
        "/registration",
        operation_id="portalRegister",
        opt=access(PUBLIC),
        request_max_body_size=3 * CLAIM_FILE_MAX_BYTES,
    )
    async def register(
        self,
        request: Request[Any, Any, Any],
        auth: NamedDependency[Auth],
        files: NamedDependency[FileStore],
        views: NamedDependency[TenantViews],
    ) -> Redirect:
        """Registered, the confirmation code mailed; the page asks for it (each refusal beside its
        field, the passwords never shown again)."""
        form = await request.form()
        values = {k: _text(form, k) for k in ("login", "name", "enterprise_name", "credit_code")}
        await self._form(
            request,
            auth,
            "accounts/register.html",
            REGISTRATION_FIELDS,
            values,
            _raw(form, CSRF_FIELD),
            values["credit_code"],
        )
        password = _raw(form, "password")
        documents, problems = await _documents(form)
        refuse(
            [
                *_required(values, "login", "name", "enterprise_name"),
                *credit_code_problems(values["credit_code"]),
                *_new_password(
                    password, _raw(form, "password_again"), values["login"], values["name"]
                ),
                *problems,
            ]
        )
        await register_applicant_unit(
            auth,
            files,
            views,
            auth.address(request),
            login=values["login"],
            name=values["name"],
            password=password,
            credit_code=values["credit_code"],
            enterprise_name=values["enterprise_name"],
            documents=documents,
        )
        tenant = auth.runtime.tenant.code
        return Redirect(f"/{tenant}/registration/confirm?registered=1", status_code=303)

    @get(
        "/registration/confirm",
        operation_id="portalConfirmationPage",
        sync_to_thread=True,
        opt=access(PUBLIC),
    )
    def confirmation_page(
        self,
        request: Request[Any, Any, Any],
        auth: NamedDependency[Auth],
        registered: Annotated[int, QueryParameter(ge=0, le=1)] = 0,
    ) -> Template:
        """The mailed code asked for (after registering, it says the mail was sent)."""
        return self._blank(
            request, auth, "accounts/confirm.html", values={}, registered=bool(registered)
        )

    @post("/registration/confirm", operation_id="portalConfirm", opt=access(PUBLIC))
    async def confirm(
        self, request: Request[Any, Any, Any], data: CodeBody, auth: NamedDependency[Auth]
    ) -> Template:
        """The registration confirmed by the mailed code."""
        token = data.token.strip()
        page = await self._form(
            request,
            auth,
            "accounts/confirm.html",
            ("token",),
            {"token": token},
            data.csrf_token,
            registered=False,
        )
        refuse(_required({"token": token}, "token"))
        await sync_to_thread(confirm_registration, auth, token)
        return page.render("accounts/done.html", done="confirmed")

    # Invitations and password resets.

    @get(
        "/invitation", operation_id="portalInvitationPage", sync_to_thread=True, opt=access(PUBLIC)
    )
    def invitation_page(
        self, request: Request[Any, Any, Any], auth: NamedDependency[Auth]
    ) -> Template:
        """An invitation accepted: the mailed code and a first password."""
        return self._blank(request, auth, "accounts/invitation.html", values={})

    @post("/invitation", operation_id="portalAcceptInvitation", opt=access(PUBLIC))
    async def accept(
        self, request: Request[Any, Any, Any], data: CodeBody, auth: NamedDependency[Auth]
    ) -> Template:
        """The mailed code and a first password: the invited account is active."""
        return await self._with_new_password(
            request, data, auth, "accounts/invitation.html", accept_invitation, "invitation"
        )

    async def _with_new_password(
        self,
        request: Request[Any, Any, Any],
        data: CodeForm,
        auth: Auth,
        template: str,
        command: Callable[[Auth, str, str], object],
        done: str,
        **context: Any,
    ) -> Template:
        """A mailed code with a new password (twice): the command run, the done page shown."""
        token = data.token.strip()
        page = await self._form(
            request,
            auth,
            template,
            ("token", "password", "password_again"),
            {"token": token},
            data.csrf_token,
            **context,
        )
        refuse(
            [
                *_required({"token": token}, "token"),
                *_new_password(data.password, data.password_again),
            ]
        )
        await sync_to_thread(command, auth, token, data.password)
        return page.render("accounts/done.html", done=done)

    @get("/password-reset", operation_id="portalResetPage", sync_to_thread=True, opt=access(PUBLIC))
    def reset_page(self, request: Request[Any, Any, Any], auth: NamedDependency[Auth]) -> Template:
        """A password reset asked for by login (answered alike whatever the login)."""
        return self._blank(request, auth, "accounts/reset.html", values={})

    @post("/password-reset", operation_id="portalRequestReset", opt=access(PUBLIC))
    async def request_reset(
        self, request: Request[Any, Any, Any], data: CodeBody, auth: NamedDependency[Auth]
    ) -> Redirect:
        """Answered alike whatever the login (ADR 0020)."""
        login = data.login.strip()
        await self._form(
            request, auth, "accounts/reset.html", ("login",), {"login": login}, data.csrf_token
        )
        refuse(_required({"login": login}, "login"))
        await sync_to_thread(mail_reset, auth, login, auth.address(request))
        tenant = auth.runtime.tenant.code
        return Redirect(f"/{tenant}/password-reset/confirm?mailed=1", status_code=303)

    @get(
        "/password-reset/confirm",
        operation_id="portalResetConfirmationPage",
        sync_to_thread=True,
        opt=access(PUBLIC),
    )
    def reset_confirmation_page(
        self,
        request: Request[Any, Any, Any],
        auth: NamedDependency[Auth],
        mailed: Annotated[int, QueryParameter(ge=0, le=1)] = 0,
    ) -> Template:
        """The mailed code and the new password."""
        return self._blank(
            request, auth, "accounts/reset_confirm.html", values={}, mailed=bool(mailed)
        )

    @post("/password-reset/confirm", operation_id="portalResetPassword", opt=access(PUBLIC))
    async def reset(
        self, request: Request[Any, Any, Any], data: CodeBody, auth: NamedDependency[Auth]
    ) -> Template:
        """The mailed code and the new password: every session of the account ends."""
        return await self._with_new_password(
            request,
            data,
            auth,
            "accounts/reset_confirm.html",
            reset_password,
            "reset",
            mailed=False,
        )

    # The signed-in account's own page.

    @get("/account", operation_id="portalMyAccount", sync_to_thread=True, opt=access(SIGNED_IN))
    def my_account(
        self,
        request: Request[Any, Any, Any],
        auth: NamedDependency[Auth],
        invited: Annotated[int, QueryParameter(ge=0, le=1)] = 0,
        claimed: Annotated[int, QueryParameter(ge=0, le=1)] = 0,
    ) -> Template:
        """My account: roles held, the claims to speak for an enterprise, colleagues invited, the
        password changed."""
        page = Page(request, auth.runtime.tenant)
        notice = "invited" if invited else "claimed" if claimed else ""
        return page.render(
            "accounts/account.html",
            **self._account(request, auth, page),
            values={},
            problems={},
            general_problems=[],
            notice=notice,
        )

    def _account(self, request: Request[Any, Any, Any], auth: Auth, page: Page) -> dict[str, Any]:
        """What the account page shows: the roles held, the claims, who it speaks for."""
        principal = principal_of(request)
        account = auth.runtime.ledger.get_account(principal.account.id)
        speaker = page.speaker
        speaks_for = account.speaks_for()
        roles = []
        for grant in account.grants:
            details = dict(grant.details)
            bound = details.get("enterprise_name") or details.get("unit_name") or ""
            roles.append(
                {
                    "role": labels.role(speaker, grant.role),
                    "bound": f"{bound}（{grant.scope}）" if bound and grant.scope else bound,
                }
            )
        claims = [
            {
                "credit_code": claim.credit_code,
                "enterprise_name": claim.enterprise_name,
                "status": claim.status.value,
                "status_text": speaker.gettext(CLAIM_STATES[claim.status]),
                "reason": claim.reason or "",
                "files": [f.name for f in claim.files],
            }
            for claim in account.claims()
        ]
        enterprises = [
            {"credit_code": code, "enterprise_name": account.enterprise_name(code)}
            for code in sorted(speaks_for)
        ]
        return {"account": account, "roles": roles, "claims": claims, "enterprises": enterprises}

    def _account_form(
        self, request: Request[Any, Any, Any], auth: Auth, fields: tuple[str, ...], **values: str
    ) -> FormPage:
        """The account page, as one of its forms is shown again (`values["form"]`: which)."""
        return FormPage(
            "accounts/account.html",
            lambda page: {**self._account(request, auth, page), "notice": ""},
            fields=fields,
            values=values,
            on_refusal=english_words,
        )

    @post(
        "/account/password",
        operation_id="portalChangePassword",
        sync_to_thread=True,
        opt=access(SIGNED_IN),
    )
    def change_password(
        self,
        request: Request[Any, Any, Any],
        data: CodeBody,
        auth: NamedDependency[Auth],
        actor: NamedDependency[Actor],
    ) -> Template:
        """Every session, this one included, ends with the old password."""
        principal = principal_of(request)
        fields = ("current_password", "password", "password_again")
        self._account_form(request, auth, fields, form="password").enter(
            request, auth.runtime.tenant
        )
        refuse(
            [
                *_required({"current_password": data.current_password}, "current_password"),
                *_new_password(
                    data.password,
                    data.password_again,
                    principal.account.login,
                    principal.account.name,
                ),
            ]
        )
        auth.runtime.ledger.change_password(
            principal.account.id, data.current_password, data.password, actor
        )
        page = Page(request, auth.runtime.tenant, viewer=Viewer(), cookies=signed_out_cookies())
        return page.render("accounts/done.html", done="password")

    @post(
        "/account/claims",
        operation_id="portalClaimAgain",
        opt=access(only(Role.APPLICANT_UNIT)),
        request_max_body_size=3 * CLAIM_FILE_MAX_BYTES,
    )
    async def claim(
        self,
        request: Request[Any, Any, Any],
        records: NamedDependency[Records],
        views: NamedDependency[TenantViews],
        auth: NamedDependency[Auth],
        files: NamedDependency[FileStore],
        actor: NamedDependency[Actor],
    ) -> Redirect:
        """After a refusal, the claim made again with new documents."""
        form = await request.form()
        credit_code = _text(form, "credit_code")
        shown = self._account_form(request, auth, DOCUMENT_FIELDS, form=f"claim-{credit_code}")
        await sync_to_thread(shown.enter, request, auth.runtime.tenant)
        documents, problems = await _documents(form)
        refuse(problems)
        await claim_again(records, views, auth, files, actor, credit_code, documents)
        return Redirect(f"/{auth.runtime.tenant.code}/account?claimed=1", status_code=303)

    @post(
        "/account/colleagues",
        operation_id="portalInviteColleague",
        sync_to_thread=True,
        opt=access(only(Role.APPLICANT_UNIT)),
    )
    def invite(
        self,
        request: Request[Any, Any, Any],
        data: CodeBody,
        records: NamedDependency[Records],
        auth: NamedDependency[Auth],
        actor: NamedDependency[Actor],
    ) -> Redirect:
        """An account that speaks for the enterprise invites a colleague (ADR 0017)."""
        login, name = data.login.strip(), data.name.strip()
        fields = ("login", "name")
        form = self._account_form(request, auth, fields, login=login, name=name, form="invite")

        def invite() -> None:
            refuse(_required({"login": login, "name": name}, "login", "name"))
            invite_colleague(records, auth, actor, data.credit_code, login, name)

        done = f"/{auth.runtime.tenant.code}/account?invited=1"
        return form.run(request, auth.runtime.tenant, invite, done)
