"""The secretariat's accounts page (账号与邀请): invite recommending units, reviewers, auditors
and colleagues (the invitation link shown and mailed), see who has accepted, grant and revoke
roles, unlock, disable. The same functions and commands as the API's `AccountController`
(`api/accounts.py`): `invite_account`, `grant_of`, `unlock_account`, the ledger's."""

from __future__ import annotations

from typing import Any, TypeVar
from uuid import UUID

import msgspec
from litestar import Controller, Request, get, post
from litestar.concurrency import sync_to_thread
from litestar.di import NamedDependency
from litestar.params import FromPath
from litestar.response import Redirect, Template

from aggregates.account import Account, AccountStatus, Grant
from aggregates.actor import Actor, Role
from aggregates.limits import REASON_MAX_CHARS, too_long
from aggregates.problems import Problem
from api.access import access, only
from api.account_schemas import InvitationRequest, RoleBinding
from api.accounts import Auth, grant_of, invite_account, unlock_account
from api.errors import RequestProblem
from api.portal import labels
from api.portal.clock import written
from api.portal.errors import FormState
from api.portal.rendering import Page
from projections.account_list import AccountListProjection, account_rows
from projections.service import READ_YOUR_WRITES_TIMEOUT, TenantViews

SECRETARIAT = only(Role.SECRETARIAT)
N_ = labels.N_
INVITED_ROLES = (
    Role.RECOMMENDING_UNIT,
    Role.REVIEWER,
    Role.AUDITOR,
    Role.SECRETARIAT,
    Role.NATIONAL_STAFF,
)
"""What the secretariat invites to, as the API's `InvitedRole` (colleagues are 秘书处)."""
REVIEWER_FIELDS = ("work_unit", "certificate_kind", "certificate_number", "mobile")
BINDING_FIELDS = ("role", "unit", *(f"reviewer.{f}" for f in REVIEWER_FIELDS))
INVITATION_FIELDS = ("login", "name", *BINDING_FIELDS)
STATES = {
    "pending": N_("待接受邀请"),
    "active": N_("已启用"),
    "locked": N_("已锁定"),
    "disabled": N_("已停用"),
}
SCHEMA_WORDS = {
    "login": N_("登录名须为电子邮箱"),
    "name": N_("姓名不能为空，且不超过 100 字"),
    "reviewer.work_unit": N_("工作单位 2 至 200 字"),
    "reviewer.certificate_kind": N_("请填写证书类别"),
    "reviewer.certificate_number": N_("请填写证书编号"),
    "reviewer.mobile": N_("手机号应为 11 位数字，以 1 开头"),
}
"""The API schema's bounds on these fields, said beside them (the schema decides)."""
REFUSALS = (
    N_("请选择本协会的推荐单位"),
    N_("评委须填写工作单位、证书和手机"),
    N_("全国质协工作人员角色仅用于全国协会"),
    N_("该登录名已被注册"),
    N_("该角色已授予"),
    N_("该账号没有此角色"),
    N_("账号未锁定"),
    N_("不能停用自己的账号"),
    N_("账号已停用"),
    N_("须说明停用原因"),
    N_("请说明收回角色的原因"),
    N_("请选择角色"),
    N_("原因不得超过 500 字"),
    N_("单位名称不能为空，且不超过 200 字"),
    N_("请说明更名的依据"),
    N_("单位名称未改变"),
    N_("账号未绑定该统一社会信用代码"),
)
"""The refusals of these pages whose message is fixed (the catalog translates them)."""


def _state(account: Account, page: Page) -> str:
    if account.status is AccountStatus.DISABLED:
        return "disabled"
    if account.is_locked(page.now):
        return "locked"
    return account.status.value


def _grant_text(page: Page, grant: Grant, tenant_units: dict[str, str]) -> str:
    name = labels.role(page.speaker, grant.role)
    details = dict(grant.details)
    if grant.role is Role.RECOMMENDING_UNIT and grant.scope:
        return f"{name}：{tenant_units.get(grant.scope, grant.scope)}"
    if grant.role is Role.REVIEWER and grant.scope:
        return f"{name}：{details.get('work_unit', '')}（{grant.scope}）"
    if grant.scope:
        return f"{name}：{details.get('enterprise_name') or grant.scope}"
    return name


B = TypeVar("B", bound=RoleBinding)


def _binding(values: dict[str, str], kind: type[B]) -> B:
    """The form's role binding as the API's schema reads it (its bounds apply), or each
    problem beside its field."""
    role = values.get("role", "")
    problems = []
    if role not in {r.value for r in INVITED_ROLES}:
        problems.append(Problem("role", "required", "请选择角色"))
    raw: dict[str, Any] = {"role": role}
    login_and_name = kind is InvitationRequest
    if login_and_name:
        raw |= {"login": values.get("login", ""), "name": values.get("name", "")}
        problems += [Problem(n, "required", "不能为空") for n in ("login", "name") if not raw[n]]
    if role == Role.RECOMMENDING_UNIT.value:
        raw["unit"] = values.get("unit", "")
    if role == Role.REVIEWER.value:
        raw["reviewer"] = {f: values.get(f"reviewer.{f}", "") for f in REVIEWER_FIELDS}
        problems += [
            Problem(f"reviewer.{f}", "required", "不能为空")
            for f in REVIEWER_FIELDS
            if not raw["reviewer"][f]
        ]
    if problems:
        raise RequestProblem(422, *problems)
    try:
        return msgspec.convert(raw, kind)
    except msgspec.ValidationError as e:
        field = str(e).rpartition("at `$.")[2].rstrip("`") or "role"
        message = SCHEMA_WORDS.get(field, "提交的内容格式不正确")
        raise RequestProblem(422, Problem(field, "schema", message)) from None


class StaffPages(Controller):
    """账号与邀请, for the secretariat."""

    path = "/{tenant:str}/staff/accounts"
    include_in_schema = False

    @staticmethod
    def _list_context(page: Page, views: TenantViews) -> dict[str, Any]:
        runtime = views.runtime
        units = {u.code: u.name_zh for u in runtime.tenant.recommending_units}
        rows = []
        for row in account_rows(views.db(AccountListProjection.name)):
            account = runtime.ledger.get_account(UUID(row.account_id))
            state = _state(account, page)
            rows.append(
                {
                    "id": row.account_id,
                    "login": account.login,
                    "name": account.name,
                    "state": state,
                    "state_text": page.speaker.gettext(STATES[state]),
                    "grants": [_grant_text(page, g, units) for g in account.grants],
                }
            )
        pending = sum(1 for r in rows if r["state"] == "pending")
        return {
            "accounts": rows,
            "pending": pending,
            "roles": _role_choices(page, runtime.tenant.level.value),
            "units": list(units.items()),
            "invited": None,
        }

    @get("/", operation_id="portalStaffAccounts", sync_to_thread=True, opt=access(SECRETARIAT))
    def accounts(
        self, request: Request[Any, Any, Any], views: NamedDependency[TenantViews]
    ) -> Template:
        page = Page(request, views.runtime.tenant)
        return page.render(
            "staff/accounts.html",
            **self._list_context(page, views),
            values={},
            problems={},
            general_problems=[],
        )

    @post("/invitations", operation_id="portalInviteAccount", opt=access(SECRETARIAT))
    async def invite(
        self,
        request: Request[Any, Any, Any],
        views: NamedDependency[TenantViews],
        auth: NamedDependency[Auth],
        actor: NamedDependency[Actor],
    ) -> Template:
        """The account invited, pending; the page shows the link that was mailed."""
        values = _posted(await request.form(), INVITATION_FIELDS)

        def run() -> Template:
            page = Page(request, views.runtime.tenant)
            request.state.form = FormState(
                template="staff/accounts.html",
                fields=INVITATION_FIELDS,
                values=values,
                context=self._list_context(page, views),
                page=page,
            )
            data = _binding(values, InvitationRequest)
            account, link, expires_at = invite_account(auth, data, actor)
            views.wait(
                views.runtime.ledger.recorder.max_notification_id(), READ_YOUR_WRITES_TIMEOUT
            )
            context = self._list_context(page, views)
            context["invited"] = {
                "login": account.login,
                "name": account.name,
                "link": link,
                "expires": written(expires_at, page.zone, page.speaker),
            }
            return page.render(
                "staff/accounts.html", **context, values={}, problems={}, general_problems=[]
            )

        return await sync_to_thread(run)

    # One account.

    @staticmethod
    def _account_context(page: Page, views: TenantViews, account: Account) -> dict[str, Any]:
        runtime = views.runtime
        units = {u.code: u.name_zh for u in runtime.tenant.recommending_units}
        state = _state(account, page)
        return {
            "account": {
                "id": str(account.id),
                "login": account.login,
                "name": account.name,
                "state": state,
                "state_text": page.speaker.gettext(STATES[state]),
                "own": page.viewer is not None
                and page.viewer.principal is not None
                and page.viewer.principal.account.id == account.id,
            },
            "grants": [
                {
                    "key": f"{g.role.value}/{g.scope or ''}",
                    "role": g.role.value,
                    "scope": g.scope or "",
                    "text": _grant_text(page, g, units),
                    "enterprise": g.role is Role.APPLICANT_UNIT,
                }
                for g in account.grants
            ],
            "roles": _role_choices(page, runtime.tenant.level.value),
            "units": list(units.items()),
            "revoking": "",
            "renaming": "",
            "done": "",
        }

    def _account_page(
        self,
        request: Request[Any, Any, Any],
        views: NamedDependency[TenantViews],
        account_id: UUID,
        done: str = "",
    ) -> Template:
        page = Page(request, views.runtime.tenant)
        account = views.runtime.ledger.get_account(account_id)
        context = self._account_context(page, views, account)
        context["done"] = done
        return page.render(
            "staff/account.html", **context, values={}, problems={}, general_problems=[]
        )

    @get(
        "/{account_id:uuid}",
        operation_id="portalStaffAccount",
        sync_to_thread=True,
        opt=access(SECRETARIAT),
    )
    def account(
        self,
        request: Request[Any, Any, Any],
        account_id: FromPath[UUID],
        views: NamedDependency[TenantViews],
    ) -> Template:
        done = request.query_params.get("done", "")
        return self._account_page(request, views, account_id, done if done in DONE else "")

    def _account_form(
        self,
        request: Request[Any, Any, Any],
        views: TenantViews,
        account_id: UUID,
        fields: tuple[str, ...],
        values: dict[str, str],
        revoking: str = "",
        renaming: str = "",
    ) -> None:
        page = Page(request, views.runtime.tenant)
        account = views.runtime.ledger.get_account(account_id)  # 404 before the form
        context = self._account_context(page, views, account)
        context["revoking"] = revoking
        context["renaming"] = renaming
        request.state.form = FormState(
            template="staff/account.html", fields=fields, values=values, context=context, page=page
        )

    def _done(self, views: TenantViews, account_id: UUID, done: str) -> Redirect:
        tenant = views.runtime.tenant.code
        return Redirect(f"/{tenant}/staff/accounts/{account_id}?done={done}", status_code=303)

    @post("/{account_id:uuid}/grants", operation_id="portalGrantRole", opt=access(SECRETARIAT))
    async def grant(
        self,
        request: Request[Any, Any, Any],
        account_id: FromPath[UUID],
        views: NamedDependency[TenantViews],
        actor: NamedDependency[Actor],
    ) -> Redirect:
        values = _posted(await request.form(), BINDING_FIELDS)

        def run() -> Redirect:
            self._account_form(request, views, account_id, BINDING_FIELDS, values)
            grant = grant_of(_binding(values, RoleBinding), views.runtime.tenant)
            views.runtime.ledger.grant_role(account_id, grant, actor)
            return self._done(views, account_id, "granted")

        return await sync_to_thread(run)

    @post(
        "/{account_id:uuid}/revocations", operation_id="portalRevokeRole", opt=access(SECRETARIAT)
    )
    async def revoke(
        self,
        request: Request[Any, Any, Any],
        account_id: FromPath[UUID],
        views: NamedDependency[TenantViews],
        actor: NamedDependency[Actor],
    ) -> Redirect:
        values = _posted(await request.form(), ("grant", "reason"))

        def run() -> Redirect:
            self._account_form(
                request, views, account_id, ("reason",), values, revoking=values["grant"]
            )
            role_value, _, scope = values["grant"].partition("/")
            if role_value not in {r.value for r in Role}:
                raise RequestProblem(422, Problem("grant", "not_granted", "该账号没有此角色"))
            _reason(values["reason"], "请说明收回角色的原因")
            views.runtime.ledger.revoke_role(
                account_id, Role(role_value), scope or None, values["reason"], actor
            )
            return self._done(views, account_id, "revoked")

        return await sync_to_thread(run)

    @post(
        "/{account_id:uuid}/enterprise-name",
        operation_id="portalRenameEnterprise",
        opt=access(SECRETARIAT),
    )
    async def rename(
        self,
        request: Request[Any, Any, Any],
        account_id: FromPath[UUID],
        views: NamedDependency[TenantViews],
        actor: NamedDependency[Actor],
    ) -> Redirect:
        """The enterprise's change of name (更名), seen on its new licence (ADR 0037)."""
        values = _posted(await request.form(), ("credit_code", "enterprise_name", "reason"))

        def run() -> Redirect:
            key = f"{Role.APPLICANT_UNIT.value}/{values['credit_code']}"
            self._account_form(
                request,
                views,
                account_id,
                ("enterprise_name", "reason"),
                values,
                renaming=key,
            )
            views.runtime.ledger.rename_enterprise(
                account_id,
                values["credit_code"],
                values["enterprise_name"],
                values["reason"],
                actor,
            )
            return self._done(views, account_id, "renamed")

        return await sync_to_thread(run)

    @post("/{account_id:uuid}/unlock", operation_id="portalUnlockAccount", opt=access(SECRETARIAT))
    async def unlock(
        self,
        request: Request[Any, Any, Any],
        account_id: FromPath[UUID],
        views: NamedDependency[TenantViews],
        auth: NamedDependency[Auth],
        actor: NamedDependency[Actor],
    ) -> Redirect:
        def run() -> Redirect:
            self._account_form(request, views, account_id, (), {})
            unlock_account(auth, account_id, actor)
            return self._done(views, account_id, "unlocked")

        return await sync_to_thread(run)

    @post(
        "/{account_id:uuid}/disable", operation_id="portalDisableAccount", opt=access(SECRETARIAT)
    )
    async def disable(
        self,
        request: Request[Any, Any, Any],
        account_id: FromPath[UUID],
        views: NamedDependency[TenantViews],
        actor: NamedDependency[Actor],
    ) -> Redirect:
        values = _posted(await request.form(), ("disable_reason",))

        def run() -> Redirect:
            self._account_form(request, views, account_id, ("disable_reason",), values)
            reason = values["disable_reason"]
            _reason(reason, "须说明停用原因", field="disable_reason")
            views.runtime.ledger.disable_account(account_id, reason, actor)
            return self._done(views, account_id, "disabled")

        return await sync_to_thread(run)


DONE = ("granted", "revoked", "renamed", "unlocked", "disabled")


def _role_choices(page: Page, level: str) -> list[tuple[str, str]]:
    roles = [r for r in INVITED_ROLES if r is not Role.NATIONAL_STAFF or level == "national"]
    return [(r.value, labels.role(page.speaker, r)) for r in roles]


def _posted(form: Any, names: tuple[str, ...]) -> dict[str, str]:
    return {n: str(form.get(n, "")).strip() for n in names}


def _reason(reason: str, required: str, field: str = "reason") -> None:
    problems = [] if reason else [Problem(field, "required", required)]
    problems += too_long(field, reason, REASON_MAX_CHARS, "原因")
    if problems:
        raise RequestProblem(422, *problems)
