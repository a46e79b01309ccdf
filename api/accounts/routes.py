"""Sign-in and accounts: login and logout, self-registration and its confirmation, invitations,
password change and reset, and the secretariat's account administration."""

from __future__ import annotations

from concurrent.futures import Executor
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial
from typing import Any
from uuid import UUID

from litestar import Controller, Request, Response, delete, get, post
from litestar.concurrency import sync_to_thread
from litestar.datastructures import Cookie
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody
from litestar.status_codes import HTTP_201_CREATED, HTTP_202_ACCEPTED, HTTP_204_NO_CONTENT

from aggregates.account import Account, AccountStatus, Grant, InvalidAccount
from aggregates.actor import Actor, Role
from aggregates.credit_code import validate_credit_code
from aggregates.enterprise_claim import ClaimDocument
from aggregates.problems import Problem
from api.accounts.auth_store import AuthStore
from api.accounts.claims import received_documents, tell_the_enterprise
from api.accounts.schemas import (
    CLAIM_FILE_MAX_BYTES,
    Accepted,
    AccountOut,
    ChangePasswordRequest,
    ClaimFileIn,
    DisableRequest,
    EnterpriseRenameRequest,
    InvitationAcceptance,
    InvitationOut,
    InvitationRequest,
    LoginRequest,
    ResetConfirmation,
    ResetRequest,
    RevokeRequest,
    RoleBinding,
    SelfRegistration,
    SessionOut,
    TokenConfirmation,
)
from api.accounts.sign_in import (
    admit_registration,
    admit_reset_mail,
    already_registered,
    check_sign_in,
)
from api.platform.access import PUBLIC, SIGNED_IN, access, only, principal_of
from api.platform.errors import RequestProblem
from api.platform.security import CSRF_COOKIE, SESSION_COOKIE, Signer, client_address
from projections.service import TenantViews
from tenants.files import FileStore
from tenants.registry import Tenant
from tenants.runtime import TenantRuntime
from tenants.settings import Settings

TOKEN_LIFETIMES = {
    "invitation": timedelta(days=7),
    "confirmation": timedelta(days=2),
    "reset": timedelta(hours=1),
}

CODE_PAGES = {
    "invitation": "invitation",
    "confirmation": "registration/confirm",
    "reset": "password-reset/confirm",
}
"""The portal's page (under the tenant's) where each kind of mailed code is entered."""


@dataclass(frozen=True)
class Auth:
    """What the sign-in routes need of the platform, for one tenant."""

    runtime: TenantRuntime
    store: AuthStore
    signer: Signer
    settings: Settings
    hashing: Executor
    """Where sign-ins check passwords (api/accounts/sign_in.py)."""

    @property
    def now(self) -> datetime:
        return self.runtime.ledger.clock()

    def address(self, request: Request[Any, Any, Any]) -> str:
        return client_address(request.scope, self.settings.proxy_networks())

    def mail_token(
        self, account: Account, purpose: str, subject: str, lead: str, *, by_name: bool = True
    ) -> datetime:
        """Mail a new one-time code. `by_name=False` for an address not yet confirmed: the
        mail then carries no text the registrant typed. The mail links to the portal's page
        for the code, which it carries after `#` (never sent to the server, nor logged)."""
        return self.mail_code(account, purpose, subject, lead, by_name=by_name)[1]

    def code_link(self, purpose: str, token: str) -> str:
        """The portal's page for a mailed code, carrying the code after `#`."""
        page = f"{self.settings.base_url}/{self.runtime.tenant.code}"
        return f"{page}/{CODE_PAGES[purpose]}#code={token}"

    def mail_code(
        self, account: Account, purpose: str, subject: str, lead: str, *, by_name: bool = True
    ) -> tuple[str, datetime]:
        """`mail_token`, answering the link mailed too (the secretariat's invitation page shows
        it to the one who invited)."""
        ttl = TOKEN_LIFETIMES[purpose]
        token = self.store.issue_token(purpose, account.id, self.now, ttl)
        tenant = self.runtime.tenant
        greeting = f"{account.name}，您好" if by_name else "您好"
        link = self.code_link(purpose, token)
        body = (
            f"{greeting}：\n\n{lead}\n\n"
            f"协会：{tenant.name_zh}（{tenant.code}）\n登录名：{account.login}\n"
            f"确认码：{token}\n\n确认码 {_hours(ttl)} 内有效，仅可使用一次。"
            f"平台地址：{self.settings.base_url}\n也可打开以下链接填写：{link}"
            f"\n\n如非本人操作，请忽略本邮件。\n{tenant.name_zh}"
        )
        self.store.queue_mail(account.login, f"【{tenant.short_name_zh}】{subject}", body, self.now)
        return link, self.now + ttl

    def mail_confirmation(self, account: Account) -> None:
        """The code that confirms a self-registration, to an address not yet confirmed."""
        self.mail_token(
            account,
            "confirmation",
            "确认注册",
            "本邮箱已用于在平台注册申报单位账号。请使用下面的确认码确认注册：",
            by_name=False,
        )


def _hours(ttl: timedelta) -> str:
    hours = int(ttl.total_seconds() // 3600)
    return f"{hours // 24} 天" if hours >= 24 else f"{hours} 小时"


def grant_of(binding: RoleBinding, tenant: Tenant) -> Grant:
    role = Role(binding.role)
    if role is Role.RECOMMENDING_UNIT:
        unit = tenant.unit(binding.unit or "")
        if unit is None:
            raise InvalidAccount(Problem("unit", "unknown_unit", "请选择本协会的推荐单位"))
        return Grant(role, unit.code, (("unit_name", unit.name_zh),))
    if role is Role.REVIEWER:
        if binding.reviewer is None:
            raise InvalidAccount(Problem("reviewer", "required", "评委须填写工作单位、证书和手机"))
        profile = binding.reviewer
        details = tuple(
            sorted(
                {
                    "work_unit": profile.work_unit,
                    "certificate_kind": profile.certificate_kind,
                    "certificate_number": profile.certificate_number,
                    "mobile": profile.mobile,
                }.items()
            )
        )
        return Grant(role, profile.certificate_number, details)
    if role is Role.NATIONAL_STAFF and tenant.level.value != "national":
        raise InvalidAccount(Problem("role", "national_only", "全国质协工作人员角色仅用于全国协会"))
    return Grant(role)


def _session_response(auth: Auth, account: Account) -> Response[SessionOut]:
    body, cookies = open_session(auth, account)
    return Response(body, cookies=cookies)


def open_session(auth: Auth, account: Account) -> tuple[SessionOut, list[Cookie]]:
    """A new session of the account: its token and CSRF token, and the cookies that carry them
    (the API's sign-in and the portal's set the same)."""
    ttl = timedelta(hours=auth.settings.session_hours)
    session_id, expires_at = auth.store.open_session(
        account.id, account.session_epoch, auth.now, ttl
    )
    token = auth.signer.session_token(auth.runtime.tenant.code, session_id, expires_at)
    csrf = auth.signer.csrf_token(session_id)
    body = SessionOut(
        token=token, csrf_token=csrf, expires_at=expires_at, account=AccountOut.of(account)
    )
    secure = auth.settings.base_url.startswith("https://")
    cookies = [
        Cookie(
            key=SESSION_COOKIE,
            value=token,
            httponly=True,
            samesite="strict",
            secure=secure,
            path="/",
            max_age=int(ttl.total_seconds()),
        ),
        Cookie(
            key=CSRF_COOKIE,
            value=csrf,
            httponly=False,
            samesite="strict",
            secure=secure,
            path="/",
            max_age=int(ttl.total_seconds()),
        ),
    ]
    return body, cookies


def signed_out_cookies() -> list[Cookie]:
    return [
        Cookie(key=SESSION_COOKIE, value="", max_age=0, path="/"),
        Cookie(key=CSRF_COOKIE, value="", max_age=0, path="/"),
    ]


def _signed_out() -> Response[None]:
    return Response(None, status_code=HTTP_204_NO_CONTENT, cookies=signed_out_cookies())


REGISTERED = Accepted(
    message="注册申请已收到，确认邮件已发出，请按邮件确认；单位身份待核验后方可查看和提交本单位的申报"
)
"""The answer to every registration, of a new login or of one already registered."""


def _bad_token() -> RequestProblem:
    return RequestProblem(400, Problem("token", "invalid_token", "确认码无效、已使用或已过期"))


RESET_MAILED = Accepted(message="如该登录名已注册，重置密码的邮件已发出")
"""The answer to every reset request, whatever the login (ADR 0020)."""


async def register_applicant_unit(
    auth: Auth,
    files: FileStore,
    views: TenantViews,
    address: str,
    *,
    login: str,
    name: str,
    password: str,
    credit_code: str,
    enterprise_name: str,
    documents: dict[ClaimDocument, ClaimFileIn],
) -> None:
    """An applicant unit's self-registration (the API's and the portal's): the credit code
    checked, the throttle, a login already registered answered alike (ADR 0020), the documents
    received and the account registered with its claim (ADR 0017), the confirmation mailed and
    the enterprise's accounts told."""
    code = validate_credit_code(credit_code)
    await sync_to_thread(admit_registration, auth, login, address)
    existing = await sync_to_thread(auth.runtime.ledger.find_account, login)
    if existing is not None:
        await sync_to_thread(already_registered, auth, existing, password, name)
        return
    async with received_documents(files, documents) as claim_files:
        account = await sync_to_thread(
            partial(
                auth.runtime.ledger.register_applicant,
                login=login,
                name=name,
                password=password,
                credit_code=code,
                enterprise_name=enterprise_name,
                files=claim_files,
                actor=Actor(login.strip().lower(), Role.APPLICANT_UNIT),
            )
        )
    await sync_to_thread(auth.mail_confirmation, account)
    await sync_to_thread(tell_the_enterprise, views, auth.store, account, code, auth.now)


def invite_account(
    auth: Auth, data: InvitationRequest, actor: Actor
) -> tuple[Account, str, datetime]:
    """The secretariat invites someone (the API's and the portal's): the account recorded,
    pending, with its role; the invitation mailed. Answers the account, the link mailed (the
    page shows it to the inviter) and when its code expires."""
    grant = grant_of(data, auth.runtime.tenant)
    account = auth.runtime.ledger.register_account(
        login=data.login,
        name=data.name,
        password=None,
        status=AccountStatus.PENDING,
        grants=[grant],
        actor=actor,
    )
    link, expires_at = auth.mail_code(
        account,
        "invitation",
        "平台账号邀请",
        f"{auth.runtime.tenant.name_zh}邀请您使用平台。请使用下面的确认码设置密码、启用账号：",
    )
    return account, link, expires_at


def unlock_account(auth: Auth, account_id: UUID, actor: Actor) -> Account:
    """The secretariat unlocks an account (the API's and the portal's): its failed sign-ins
    forgotten, the lock lifted."""
    auth.store.clear_failures(account_id)
    return auth.runtime.ledger.unlock_account(account_id, actor)


def confirm_registration(auth: Auth, token: str) -> Account:
    """The mailed confirmation code activates the self-registered account."""
    account_id = auth.store.redeem_token(token, "confirmation", auth.now)
    if account_id is None:
        raise _bad_token()
    return auth.runtime.ledger.activate_account(
        account_id, Actor(str(account_id), Role.APPLICANT_UNIT)
    )


def accept_invitation(auth: Auth, token: str, password: str) -> Account:
    """The invited person sets their password with the mailed code; the account is active."""
    account_id = auth.store.redeem_token(token, "invitation", auth.now)
    if account_id is None:
        raise _bad_token()
    account = auth.runtime.ledger.get_account(account_id)
    actor = Actor(str(account_id), min(account.roles(), default=Role.AUDITOR))
    return auth.runtime.ledger.set_password(account_id, password, "invitation", actor)


def mail_reset(auth: Auth, login: str, address: str) -> None:
    """Mail a reset code to an active account, when the throttle admits it; the caller answers
    alike whatever happened."""
    admitted = admit_reset_mail(auth, login, address)
    account = auth.runtime.ledger.find_account(login)
    if admitted and account is not None and account.status is AccountStatus.ACTIVE:
        auth.mail_token(
            account, "reset", "重置密码", "您申请了重置密码。请使用下面的确认码设置新密码："
        )


def reset_password(auth: Auth, token: str, password: str) -> Account:
    account_id = auth.store.redeem_token(token, "reset", auth.now)
    if account_id is None:
        raise _bad_token()
    account = auth.runtime.ledger.get_account(account_id)
    return auth.runtime.ledger.set_password(
        account_id,
        password,
        "reset",
        Actor(str(account_id), min(account.roles(), default=Role.APPLICANT_UNIT)),
    )


class SessionController(Controller):
    """Signing in and out, and the signed-in user's own account."""

    path = "/api/v1/tenants/{tenant:str}"
    tags = ["accounts 账号"]

    @post(
        "/session",
        operation_id="login",
        opt=access(PUBLIC),
        status_code=HTTP_201_CREATED,
    )
    async def login(
        self,
        request: Request[Any, Any, Any],
        data: JSONBody[LoginRequest],
        auth: NamedDependency[Auth],
    ) -> Response[SessionOut]:
        account = await check_sign_in(auth, data.login, data.password, auth.address(request))
        return await sync_to_thread(_session_response, auth, account)

    @delete(
        "/session",
        operation_id="logout",
        sync_to_thread=True,
        opt=access(SIGNED_IN),
        status_code=HTTP_204_NO_CONTENT,
    )
    def logout(
        self, request: Request[Any, Any, Any], auth: NamedDependency[Auth]
    ) -> Response[None]:
        principal = principal_of(request)
        auth.store.revoke_session(principal.session_id, auth.now)
        return _signed_out()

    @get("/me", operation_id="showMe", sync_to_thread=False, opt=access(SIGNED_IN))
    def me(self, request: Request[Any, Any, Any], tenant: FromPath[str]) -> AccountOut:
        """The signed-in account (the guard has matched `tenant` with its session's)."""
        principal = principal_of(request)
        return AccountOut.of(principal.account)

    @post(
        "/me/password",
        operation_id="changePassword",
        sync_to_thread=True,
        opt=access(SIGNED_IN),
        status_code=HTTP_204_NO_CONTENT,
    )
    def change_password(
        self,
        request: Request[Any, Any, Any],
        data: JSONBody[ChangePasswordRequest],
        auth: NamedDependency[Auth],
        actor: NamedDependency[Actor],
    ) -> Response[None]:
        principal = principal_of(request)
        auth.runtime.ledger.change_password(
            principal.account.id, data.current_password, data.new_password, actor
        )
        return _signed_out()  # every session, this one included, ended with the old password

    @post(
        "/password-resets",
        operation_id="requestPasswordReset",
        sync_to_thread=True,
        opt=access(PUBLIC),
        status_code=HTTP_202_ACCEPTED,
    )
    def request_reset(
        self,
        request: Request[Any, Any, Any],
        data: JSONBody[ResetRequest],
        auth: NamedDependency[Auth],
    ) -> Accepted:
        mail_reset(auth, data.login, auth.address(request))
        return RESET_MAILED  # the same either way

    @post(
        "/password-resets/confirm",
        operation_id="resetPassword",
        sync_to_thread=True,
        opt=access(PUBLIC),
        status_code=HTTP_204_NO_CONTENT,
    )
    def reset_password(
        self, data: JSONBody[ResetConfirmation], auth: NamedDependency[Auth]
    ) -> None:
        reset_password(auth, data.token, data.new_password)


class RegistrationController(Controller):
    """Applicant units register themselves; invited users accept their invitation."""

    path = "/api/v1/tenants/{tenant:str}"
    tags = ["accounts 账号"]

    @post(
        "/registrations",
        operation_id="registerApplicant",
        opt=access(PUBLIC),
        status_code=HTTP_202_ACCEPTED,
        request_max_body_size=3 * CLAIM_FILE_MAX_BYTES,  # two documents, base64-encoded
    )
    async def register(
        self,
        request: Request[Any, Any, Any],
        data: JSONBody[SelfRegistration],
        auth: NamedDependency[Auth],
        files: NamedDependency[FileStore],
        views: NamedDependency[TenantViews],
    ) -> Accepted:
        """The account is bound to the credit code at once, but speaks for the enterprise only
        once its licence and letter have been checked (ADR 0017). A login already registered is
        answered alike (ADR 0020)."""
        documents = {
            ClaimDocument.BUSINESS_LICENCE: data.business_licence,
            ClaimDocument.AUTHORISATION_LETTER: data.authorisation_letter,
        }
        await register_applicant_unit(
            auth,
            files,
            views,
            auth.address(request),
            login=data.login,
            name=data.name,
            password=data.password,
            credit_code=data.credit_code,
            enterprise_name=data.enterprise_name,
            documents=documents,
        )
        return REGISTERED

    @post(
        "/registrations/confirm",
        operation_id="confirmRegistration",
        sync_to_thread=True,
        opt=access(PUBLIC),
        status_code=200,
    )
    def confirm(self, data: JSONBody[TokenConfirmation], auth: NamedDependency[Auth]) -> AccountOut:
        return AccountOut.of(confirm_registration(auth, data.token))

    @post(
        "/invitations/accept",
        operation_id="acceptInvitation",
        sync_to_thread=True,
        opt=access(PUBLIC),
        status_code=200,
    )
    def accept(
        self, data: JSONBody[InvitationAcceptance], auth: NamedDependency[Auth]
    ) -> AccountOut:
        return AccountOut.of(accept_invitation(auth, data.token, data.password))


class AccountController(Controller):
    """The secretariat's administration of its tenant's accounts."""

    path = "/api/v1/tenants/{tenant:str}/accounts"
    tags = ["accounts 账号"]

    @post(
        "/invitations",
        operation_id="inviteAccount",
        sync_to_thread=True,
        opt=access(only(Role.SECRETARIAT)),
        status_code=HTTP_201_CREATED,
    )
    def invite(
        self,
        data: JSONBody[InvitationRequest],
        auth: NamedDependency[Auth],
        actor: NamedDependency[Actor],
    ) -> InvitationOut:
        account, _, expires_at = invite_account(auth, data, actor)
        return InvitationOut(account=AccountOut.of(account), expires_at=expires_at)

    @get(
        "/{account_id:uuid}",
        operation_id="showAccount",
        sync_to_thread=True,
        opt=access(only(Role.SECRETARIAT, Role.AUDITOR)),
    )
    def show(self, account_id: FromPath[UUID], auth: NamedDependency[Auth]) -> AccountOut:
        return AccountOut.of(auth.runtime.ledger.get_account(account_id))

    @post(
        "/{account_id:uuid}/grants",
        operation_id="grantRole",
        sync_to_thread=True,
        opt=access(only(Role.SECRETARIAT)),
        status_code=200,
    )
    def grant(
        self,
        account_id: FromPath[UUID],
        data: JSONBody[RoleBinding],
        auth: NamedDependency[Auth],
        actor: NamedDependency[Actor],
    ) -> AccountOut:
        return AccountOut.of(
            auth.runtime.ledger.grant_role(account_id, grant_of(data, auth.runtime.tenant), actor)
        )

    @post(
        "/{account_id:uuid}/revocations",
        operation_id="revokeRole",
        sync_to_thread=True,
        opt=access(only(Role.SECRETARIAT)),
        status_code=200,
    )
    def revoke(
        self,
        account_id: FromPath[UUID],
        data: JSONBody[RevokeRequest],
        auth: NamedDependency[Auth],
        actor: NamedDependency[Actor],
    ) -> AccountOut:
        return AccountOut.of(
            auth.runtime.ledger.revoke_role(account_id, data.role, data.scope, data.reason, actor)
        )

    @post(
        "/{account_id:uuid}/unlock",
        operation_id="unlockAccount",
        sync_to_thread=True,
        opt=access(only(Role.SECRETARIAT)),
        status_code=200,
    )
    def unlock(
        self, account_id: FromPath[UUID], auth: NamedDependency[Auth], actor: NamedDependency[Actor]
    ) -> AccountOut:
        return AccountOut.of(unlock_account(auth, account_id, actor))

    @post(
        "/{account_id:uuid}/disable",
        operation_id="disableAccount",
        sync_to_thread=True,
        opt=access(only(Role.SECRETARIAT)),
        status_code=200,
    )
    def disable(
        self,
        account_id: FromPath[UUID],
        data: JSONBody[DisableRequest],
        auth: NamedDependency[Auth],
        actor: NamedDependency[Actor],
    ) -> AccountOut:
        return AccountOut.of(auth.runtime.ledger.disable_account(account_id, data.reason, actor))

    @post(
        "/{account_id:uuid}/enterprise-name",
        operation_id="renameEnterprise",
        sync_to_thread=True,
        opt=access(only(Role.SECRETARIAT)),
        status_code=200,
    )
    def rename_enterprise(
        self,
        account_id: FromPath[UUID],
        data: JSONBody[EnterpriseRenameRequest],
        auth: NamedDependency[Auth],
        actor: NamedDependency[Actor],
    ) -> AccountOut:
        """The enterprise's change of name, recorded on the account (its own event): the name
        its results are submitted and certified under from now on (ADR 0037)."""
        return AccountOut.of(
            auth.runtime.ledger.rename_enterprise(
                account_id, data.credit_code, data.enterprise_name, data.reason, actor
            )
        )
