"""The verifiers' queue in the browser (ADR 0017): the claims awaiting verification with their
licence and letter opened in the page, accepted, or refused with a reason. The same rules and
commands as `api/accounts/enterprise_claims.py`: who sees which claim is `Records.verifiable_codes`."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

from litestar import Controller, Request, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, QueryParameter
from litestar.response import Redirect, Stream, Template

from aggregates.actor import Actor
from aggregates.enterprise_claim import ClaimDocument
from aggregates.problems import Problem
from api.accounts.enterprise_claims import (
    READERS,
    VERIFIERS,
    claim_document,
    decidable_claim,
    decide_claim,
    queued_claims,
)
from api.accounts.routes import Auth
from api.platform.access import access
from api.platform.errors import RequestProblem
from api.platform.records import Records
from api.portal.accounts import english_words
from api.portal.forms import FormPage, PortalForm, Posted
from api.portal.labels import N_
from api.portal.rendering import Page
from projections.service import TenantViews
from tenants.files import FileStore

DOCUMENTS = {
    ClaimDocument.BUSINESS_LICENCE: N_("营业执照"),
    ClaimDocument.AUTHORISATION_LETTER: N_("授权委托书"),
}
REASON_MAX = 500
"""As the API's `RefusalRequest.reason`."""


class RefusalForm(PortalForm):
    reason: str = ""


class EnterpriseClaimPages(Controller):
    path = "/{tenant:str}/enterprise-claims"
    include_in_schema = False

    def _queue(self, page: Page, views: TenantViews, records: Records) -> dict[str, Any]:
        tenant = views.runtime.tenant.code
        rows = []
        for account, claim in queued_claims(views, records, "awaiting_verification"):
            base = f"/{tenant}/enterprise-claims/{account.id}/{claim.credit_code}"
            rows.append(
                {
                    "key": f"{account.id}/{claim.credit_code}",
                    "base": base,
                    "name": account.name,
                    "login": account.login,
                    "credit_code": claim.credit_code,
                    "enterprise_name": claim.enterprise_name,
                    "files": [
                        {
                            "document": page.speaker.gettext(DOCUMENTS[f.document]),
                            "name": f.name,
                            "url": f"{base}/files/{f.sha256}",
                            "image": f.content_type.startswith("image/"),
                            "kind": f.content_type.split("/")[-1].upper(),
                        }
                        for f in claim.files
                    ],
                }
            )
        return {"claims": rows}

    def _queue_page(
        self,
        views: TenantViews,
        records: Records,
        flag: str = "",
        refusing: str = "",
        **form: Any,
    ) -> FormPage:
        """The queue (after the `flag` of what was done), where a claim is refused with a
        reason (`refusing`: whose reason a refusal shows again)."""
        return FormPage(
            "accounts/claims_queue.html",
            lambda page: {
                **self._queue(page, views, records),
                "done": flag,
                "refusing": refusing,
            },
            on_refusal=english_words,
            **form,
        )

    @get("/", operation_id="portalClaimQueue", sync_to_thread=True, opt=access(READERS))
    def queue(
        self,
        request: Request[Any, Any, Any],
        records: NamedDependency[Records],
        views: NamedDependency[TenantViews],
        done: Annotated[str | None, QueryParameter(max_length=20)] = None,
    ) -> Template:
        """The claims awaiting verification, each with its licence and letter in the page."""
        flag = done if done in ("accepted", "refused") else ""
        return self._queue_page(views, records, flag).show(request, views.runtime.tenant)

    @get(
        "/{account_id:uuid}/{credit_code:str}/files/{sha256:str}",
        operation_id="portalClaimFile",
        sync_to_thread=True,
        opt=access(READERS),
    )
    def file(
        self,
        records: NamedDependency[Records],
        account_id: FromPath[UUID],
        credit_code: FromPath[str],
        sha256: FromPath[str],
        views: NamedDependency[TenantViews],
        files: NamedDependency[FileStore],
    ) -> Stream:
        """The document opened in the browser (a PDF in its viewer, an image shown), with the
        kind found from its content when it was received (and nosniff, as every answer)."""
        return claim_document(views, records, files, account_id, credit_code, sha256, inline=True)

    @post(
        "/{account_id:uuid}/{credit_code:str}/accept",
        operation_id="portalAcceptClaim",
        sync_to_thread=True,
        opt=access(VERIFIERS),
    )
    def accept(
        self,
        records: NamedDependency[Records],
        account_id: FromPath[UUID],
        credit_code: FromPath[str],
        views: NamedDependency[TenantViews],
        auth: NamedDependency[Auth],
        actor: NamedDependency[Actor],
    ) -> Redirect:
        """The licence and the letter check out: the account speaks for the enterprise."""
        decide_claim(views, records, auth, account_id, credit_code, actor)
        return Redirect(
            f"/{auth.runtime.tenant.code}/enterprise-claims?done=accepted", status_code=303
        )

    @post(
        "/{account_id:uuid}/{credit_code:str}/refuse",
        operation_id="portalRefuseClaim",
        sync_to_thread=True,
        opt=access(VERIFIERS),
    )
    def refuse(
        self,
        request: Request[Any, Any, Any],
        data: Posted[RefusalForm],
        records: NamedDependency[Records],
        account_id: FromPath[UUID],
        credit_code: FromPath[str],
        views: NamedDependency[TenantViews],
        auth: NamedDependency[Auth],
        actor: NamedDependency[Actor],
    ) -> Redirect:
        """Refused with the reason the claimant reads (the reason beside its field if missing)."""
        decidable_claim(views, records, account_id, credit_code)
        reason = data.reason.strip()

        def refuse_claim() -> None:
            if len(reason) > REASON_MAX:
                raise RequestProblem(422, Problem("reason", "too_long", "原因不超过 500 字"))
            decide_claim(views, records, auth, account_id, credit_code, actor, reason)

        form = self._queue_page(
            views,
            records,
            refusing=f"{account_id}/{credit_code}",
            fields=("reason",),
            values={"reason": reason},
        )
        done = f"/{auth.runtime.tenant.code}/enterprise-claims?done=refused"
        return form.run(request, views.runtime.tenant, refuse_claim, done)
