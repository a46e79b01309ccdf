"""The demo's one-time sign-in links (`qcflow serve --demo` prints them): the browser is signed
in with the same session cookie as the sign-in page, then sent to the tenant's home page."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, get
from litestar.di import NamedDependency
from litestar.params import FromPath
from litestar.response import Redirect

from aggregates.account import AccountStatus
from api.accounts.routes import Auth, open_session
from api.demo.seeds import link_purpose
from api.platform.access import PUBLIC, access, not_found


class DemoPages(Controller):
    path = "/{tenant:str}"
    include_in_schema = False

    @get(
        "/demo-sign-in/{token:str}",
        operation_id="portalDemoSignIn",
        sync_to_thread=True,
        opt=access(PUBLIC),
    )
    def demo_sign_in(
        self, request: Request[Any, Any, Any], token: FromPath[str], auth: NamedDependency[Auth]
    ) -> Redirect:
        """Redeem the link's token (once; only while the start that printed it runs)."""
        nonce: str | None = getattr(request.app.state, "demo_nonce", None)
        if nonce is None or len(token) > 200:
            raise not_found("page")
        account_id = auth.store.redeem_token(token, link_purpose(nonce), auth.now)
        if account_id is None:
            raise not_found("page")
        account = auth.runtime.ledger.get_account(account_id)
        if account.status is not AccountStatus.ACTIVE:
            raise not_found("page")
        _, cookies = open_session(auth, account)
        return Redirect(f"/{auth.runtime.tenant.code}/", status_code=303, cookies=cookies)
