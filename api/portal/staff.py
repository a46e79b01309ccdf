"""The secretariat's accounts page (账号与邀请): invite recommending units, reviewers, auditors
and colleagues (the invitation link shown and mailed), see who has accepted, grant and revoke
roles, record an enterprise's change of name, unlock, disable. The same functions and commands as
the API's `AccountController` (`api/accounts/routes.py`): `invite_account`, `grant_of`,
`unlock_account`, the ledger's. What the forms read is `staff_forms.py`'s."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from litestar import Controller, Request, get, post
from litestar.concurrency import sync_to_thread
from litestar.di import NamedDependency
from litestar.params import FromPath
from litestar.response import Redirect, Template

from aggregates.account import Account
from aggregates.actor import Actor, Role
from aggregates.problems import Problem
from api.accounts.routes import Auth, grant_of, invite_account, unlock_account
from api.accounts.schemas import InvitationRequest, RoleBinding
from api.platform.access import access, only
from api.platform.errors import RequestProblem
from api.portal.clock import written
from api.portal.forms import FormPage, stripped
from api.portal.rendering import Page
from api.portal.staff_forms import (
    BINDING_FIELDS,
    DONE,
    INVITATION_FIELDS,
    STATES,
    binding,
    check_reason,
    grant_text,
    role_choices,
    state_of,
)
from projections.account_list import AccountListProjection, account_rows
from projections.service import READ_YOUR_WRITES_TIMEOUT, TenantViews

SECRETARIAT = only(Role.SECRETARIAT)


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
            state = state_of(account, page)
            rows.append(
                {
                    "id": row.account_id,
                    "login": account.login,
                    "name": account.name,
                    "state": state,
                    "state_text": page.speaker.gettext(STATES[state]),
                    "grants": [grant_text(page, g, units) for g in account.grants],
                }
            )
        pending = sum(1 for r in rows if r["state"] == "pending")
        return {
            "accounts": rows,
            "pending": pending,
            "roles": role_choices(page, runtime.tenant.level.value),
            "units": list(units.items()),
            "invited": None,
        }

    def _list_page(self, views: TenantViews, **form: Any) -> FormPage:
        """Every account, where one is invited (`form`: as `FormPage`'s)."""
        return FormPage("staff/accounts.html", lambda page: self._list_context(page, views), **form)

    @get("/", operation_id="portalStaffAccounts", sync_to_thread=True, opt=access(SECRETARIAT))
    def accounts(
        self, request: Request[Any, Any, Any], views: NamedDependency[TenantViews]
    ) -> Template:
        """Every account with its roles and whether it has accepted; the invitation form."""
        return self._list_page(views).show(request, views.runtime.tenant)

    @post("/invitations", operation_id="portalInviteAccount", opt=access(SECRETARIAT))
    async def invite(
        self,
        request: Request[Any, Any, Any],
        views: NamedDependency[TenantViews],
        auth: NamedDependency[Auth],
        actor: NamedDependency[Actor],
    ) -> Template:
        """The account invited, pending; the page shows the link that was mailed."""
        values = stripped(await request.form(), *INVITATION_FIELDS)

        def run() -> Template:
            form = self._list_page(views, fields=INVITATION_FIELDS, values=values)
            page, _ = form.enter(request, views.runtime.tenant)
            data = binding(values, InvitationRequest)
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
        state = state_of(account, page)
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
                    "text": grant_text(page, g, units),
                    "enterprise": g.role is Role.APPLICANT_UNIT,
                }
                for g in account.grants
            ],
            "roles": role_choices(page, runtime.tenant.level.value),
            "units": list(units.items()),
        }

    def _account_page(
        self,
        views: TenantViews,
        account_id: UUID,
        flag: str = "",
        revoking: str = "",
        renaming: str = "",
        **form: Any,
    ) -> FormPage:
        """One account (after the `flag` of what was done), where its roles are granted and
        revoked (`revoking`: which grant's reason a refusal shows again), its enterprise
        renamed (`renaming`: which), it is unlocked or disabled (`form`: as `FormPage`'s)."""

        def context(page: Page) -> dict[str, Any]:
            account = views.runtime.ledger.get_account(account_id)  # 404 before the form
            return {
                **self._account_context(page, views, account),
                "revoking": revoking,
                "renaming": renaming,
                "done": flag,
            }

        return FormPage("staff/account.html", context, **form)

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
        """One account: roles granted and revoked, the enterprise renamed, unlocked, disabled."""
        done = request.query_params.get("done", "")
        form = self._account_page(views, account_id, done if done in DONE else "")
        return form.show(request, views.runtime.tenant)

    def _done(self, views: TenantViews, account_id: UUID, done: str) -> str:
        return f"/{views.runtime.tenant.code}/staff/accounts/{account_id}?done={done}"

    @post("/{account_id:uuid}/grants", operation_id="portalGrantRole", opt=access(SECRETARIAT))
    async def grant(
        self,
        request: Request[Any, Any, Any],
        account_id: FromPath[UUID],
        views: NamedDependency[TenantViews],
        actor: NamedDependency[Actor],
    ) -> Redirect:
        """A role granted, bound as the API's `RoleBinding` reads it."""
        values = stripped(await request.form(), *BINDING_FIELDS)

        def grant() -> None:
            grant = grant_of(binding(values, RoleBinding), views.runtime.tenant)
            views.runtime.ledger.grant_role(account_id, grant, actor)

        form = self._account_page(views, account_id, fields=BINDING_FIELDS, values=values)
        done = self._done(views, account_id, "granted")
        return await form.submit(request, views.runtime.tenant, grant, done)

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
        """A role revoked, with the reason."""
        values = stripped(await request.form(), "grant", "reason")

        def revoke() -> None:
            role_value, _, scope = values["grant"].partition("/")
            if role_value not in {r.value for r in Role}:
                raise RequestProblem(422, Problem("grant", "not_granted", "该账号没有此角色"))
            check_reason(values["reason"], "请说明收回角色的原因")
            views.runtime.ledger.revoke_role(
                account_id, Role(role_value), scope or None, values["reason"], actor
            )

        form = self._account_page(
            views, account_id, revoking=values["grant"], fields=("reason",), values=values
        )
        done = self._done(views, account_id, "revoked")
        return await form.submit(request, views.runtime.tenant, revoke, done)

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
        values = stripped(await request.form(), "credit_code", "enterprise_name", "reason")
        form = self._account_page(
            views,
            account_id,
            renaming=f"{Role.APPLICANT_UNIT.value}/{values['credit_code']}",
            fields=("enterprise_name", "reason"),
            values=values,
        )
        return await form.submit(
            request,
            views.runtime.tenant,
            lambda: views.runtime.ledger.rename_enterprise(
                account_id,
                values["credit_code"],
                values["enterprise_name"],
                values["reason"],
                actor,
            ),
            self._done(views, account_id, "renamed"),
        )

    @post("/{account_id:uuid}/unlock", operation_id="portalUnlockAccount", opt=access(SECRETARIAT))
    async def unlock(
        self,
        request: Request[Any, Any, Any],
        account_id: FromPath[UUID],
        views: NamedDependency[TenantViews],
        auth: NamedDependency[Auth],
        actor: NamedDependency[Actor],
    ) -> Redirect:
        """A locked account (too many failed sign-ins) unlocked before its time."""
        return await self._account_page(views, account_id).submit(
            request,
            views.runtime.tenant,
            lambda: unlock_account(auth, account_id, actor),
            self._done(views, account_id, "unlocked"),
        )

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
        """Disabled, with the reason: its sessions end and it signs in no more."""
        values = stripped(await request.form(), "disable_reason")

        def disable() -> None:
            check_reason(values["disable_reason"], "须说明停用原因", field="disable_reason")
            views.runtime.ledger.disable_account(account_id, values["disable_reason"], actor)

        form = self._account_page(views, account_id, fields=("disable_reason",), values=values)
        done = self._done(views, account_id, "disabled")
        return await form.submit(request, views.runtime.tenant, disable, done)
