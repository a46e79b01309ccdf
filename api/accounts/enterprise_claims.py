"""Who speaks for an enterprise (ADR 0017): the verifiers' queue of claims with their documents,
accepting or refusing a claim, and an enterprise's accounts inviting colleagues."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal
from urllib.parse import quote
from uuid import UUID

import msgspec
from litestar import Controller, get, post
from litestar.concurrency import sync_to_thread
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody, QueryParameter
from litestar.response import Stream
from litestar.status_codes import HTTP_201_CREATED

from aggregates.account import Account
from aggregates.actor import Actor, Role
from aggregates.credit_code import validate_credit_code
from aggregates.enterprise_claim import ClaimDocument, EnterpriseClaim, Verification
from api.accounts.claims import received_documents, tell_the_claimant, tell_the_enterprise
from api.accounts.routes import Auth
from api.accounts.schemas import (
    CLAIM_FILE_MAX_BYTES,
    AccountOut,
    ClaimFileIn,
    ClaimOut,
    ClaimRequest,
    ColleagueInvitation,
    InvitationOut,
    QueuedClaimOut,
    RefusalRequest,
)
from api.platform.access import access, not_found, only
from api.platform.records import Records
from api.review.routes import fresh
from projections.enterprise_accounts import claims
from projections.service import TenantViews
from tenants.files import FileStore
from tenants.runtime import TenantRuntime

VERIFIERS = only(Role.SECRETARIAT, Role.RECOMMENDING_UNIT)
READERS = only(Role.SECRETARIAT, Role.RECOMMENDING_UNIT, Role.AUDITOR)
ClaimState = Literal["awaiting_verification", "verified", "refused"]


def decidable_claim(
    views: TenantViews, records: Records, account_id: UUID, credit_code: str
) -> tuple[Account, EnterpriseClaim]:
    account = views.runtime.ledger.get_account(account_id)
    claim = account.claim(credit_code)
    if claim is None:
        raise not_found("credit_code")
    fresh(views)
    codes = records.verifiable_codes(views)
    if codes is not None and credit_code not in codes:
        raise not_found("credit_code")
    return account, claim


def claim_document(
    views: TenantViews,
    records: Records,
    files: FileStore,
    account_id: UUID,
    credit_code: str,
    sha256: str,
    *,
    inline: bool = False,
) -> Stream:
    """One of a claim's documents, to those who may decide it: downloaded (the API) or opened in
    the browser (the verification page, never cached)."""
    _, claim = decidable_claim(views, records, account_id, credit_code)
    found = next((f for f in claim.files if f.sha256 == sha256), None)
    if found is None or not files.exists(sha256):
        raise not_found("sha256")
    disposition = "inline" if inline else "attachment"
    headers = {
        "Content-Disposition": f"{disposition}; filename*=UTF-8''{quote(found.name)}",
        "Content-Length": str(found.size),
    }
    if inline:
        headers["Cache-Control"] = "private, no-store"
    return Stream(files.read(sha256), media_type=found.content_type, headers=headers)


def decide_claim(
    views: TenantViews,
    records: Records,
    auth: Auth,
    account_id: UUID,
    credit_code: str,
    actor: Actor,
    refusal: str | None = None,
) -> Account:
    """Accept a claim the account may decide (no `refusal`), or refuse it with that reason; the
    claimant is told by mail. The API's and the portal's decision."""
    decidable_claim(views, records, account_id, credit_code)
    ledger = views.runtime.ledger
    if refusal is None:
        account = ledger.verify_enterprise(account_id, credit_code, verification_of(actor), actor)
    else:
        account = ledger.refuse_enterprise_claim(account_id, credit_code, refusal, actor)
    tell_the_claimant(views, auth.store, account, credit_code, auth.now)
    return account


def queued_claims(
    views: TenantViews, records: Records, status: str
) -> list[tuple[Account, EnterpriseClaim]]:
    """The claims in a status that the account may see (`Records.verifiable_codes`), oldest
    first: the API's queue and the portal's."""
    fresh(views)
    codes = records.verifiable_codes(views)
    found = []
    for row in claims(views.db("enterprise_accounts"), status, codes):
        account = views.runtime.ledger.get_account(UUID(row.account_id))
        claim = account.claim(row.credit_code)
        if claim is not None and claim.status.value == status:
            found.append((account, claim))
    return found


def _out(tenant: str, account: Account, claim: EnterpriseClaim) -> QueuedClaimOut:
    base = f"/api/v1/tenants/{tenant}/enterprise-claims/{account.id}/{claim.credit_code}/files"
    return QueuedClaimOut(
        **msgspec.structs.asdict(ClaimOut.of(claim)),
        account_id=str(account.id),
        login=account.login,
        name=account.name,
        file_urls={f.sha256: f"{base}/{f.sha256}" for f in claim.files},
    )


def verification_of(actor: Actor) -> Verification:
    if actor.role is Role.RECOMMENDING_UNIT:
        return Verification.RECOMMENDING_UNIT
    return Verification.SECRETARIAT


class EnterpriseClaimController(Controller):
    """The verifiers' queue: the secretariat's, and a recommending unit's where delegated."""

    path = "/api/v1/tenants/{tenant:str}/enterprise-claims"
    tags = ["accounts 账号"]

    @get("/", operation_id="listEnterpriseClaims", sync_to_thread=True, opt=access(READERS))
    def list(
        self,
        records: NamedDependency[Records],
        views: NamedDependency[TenantViews],
        status: Annotated[ClaimState, QueryParameter()] = "awaiting_verification",
    ) -> list[QueuedClaimOut]:
        """Claims in a status (by default those awaiting verification), oldest first."""
        tenant = views.runtime.tenant.code
        return [_out(tenant, a, c) for a, c in queued_claims(views, records, status)]

    @get(
        "/{account_id:uuid}/{credit_code:str}/files/{sha256:str}",
        operation_id="downloadClaimFile",
        sync_to_thread=True,
        opt=access(READERS),
    )
    def download(
        self,
        records: NamedDependency[Records],
        account_id: FromPath[UUID],
        credit_code: FromPath[str],
        sha256: FromPath[str],
        views: NamedDependency[TenantViews],
        files: NamedDependency[FileStore],
    ) -> Stream:
        return claim_document(views, records, files, account_id, credit_code, sha256)

    @post(
        "/{account_id:uuid}/{credit_code:str}/accept",
        operation_id="acceptEnterpriseClaim",
        sync_to_thread=True,
        opt=access(VERIFIERS),
        status_code=200,
    )
    def accept(
        self,
        records: NamedDependency[Records],
        account_id: FromPath[UUID],
        credit_code: FromPath[str],
        views: NamedDependency[TenantViews],
        auth: NamedDependency[Auth],
        actor: NamedDependency[Actor],
    ) -> QueuedClaimOut:
        """The licence and the letter check out: the account speaks for the enterprise."""
        account = decide_claim(views, records, auth, account_id, credit_code, actor)
        return _out(views.runtime.tenant.code, account, account.claim(credit_code) or _gone())

    @post(
        "/{account_id:uuid}/{credit_code:str}/refuse",
        operation_id="refuseEnterpriseClaim",
        sync_to_thread=True,
        opt=access(VERIFIERS),
        status_code=200,
    )
    def refuse(
        self,
        records: NamedDependency[Records],
        account_id: FromPath[UUID],
        credit_code: FromPath[str],
        data: JSONBody[RefusalRequest],
        views: NamedDependency[TenantViews],
        auth: NamedDependency[Auth],
        actor: NamedDependency[Actor],
    ) -> QueuedClaimOut:
        """The claim is refused with a reason the claimant reads; it still speaks for nothing."""
        account = decide_claim(views, records, auth, account_id, credit_code, actor, data.reason)
        return _out(views.runtime.tenant.code, account, account.claim(credit_code) or _gone())


def _gone() -> EnterpriseClaim:
    raise not_found("credit_code")


class OwnClaimController(Controller):
    """The claimant's side: claiming again with new documents after a refusal."""

    path = "/api/v1/tenants/{tenant:str}/me/enterprise-claims"
    tags = ["accounts 账号"]

    @post(
        "/",
        operation_id="claimEnterprise",
        opt=access(only(Role.APPLICANT_UNIT)),
        status_code=HTTP_201_CREATED,
        request_max_body_size=3 * CLAIM_FILE_MAX_BYTES,  # two documents, base64-encoded
    )
    async def claim(
        self,
        records: NamedDependency[Records],
        data: JSONBody[ClaimRequest],
        views: NamedDependency[TenantViews],
        auth: NamedDependency[Auth],
        files: NamedDependency[FileStore],
        actor: NamedDependency[Actor],
    ) -> AccountOut:
        """For a credit code the account is bound to; the claim awaits verification again."""
        documents = {
            ClaimDocument.BUSINESS_LICENCE: data.business_licence,
            ClaimDocument.AUTHORISATION_LETTER: data.authorisation_letter,
        }
        account = await claim_again(records, views, auth, files, actor, data.credit_code, documents)
        return AccountOut.of(account)


class ColleagueController(Controller):
    """An enterprise's accounts invite colleagues: any account that speaks for the enterprise is
    its administrator here (ADR 0017)."""

    path = "/api/v1/tenants/{tenant:str}/enterprises/{credit_code:str}"
    tags = ["accounts 账号"]

    @post(
        "/invitations",
        operation_id="inviteColleague",
        sync_to_thread=True,
        opt=access(only(Role.APPLICANT_UNIT)),
        status_code=HTTP_201_CREATED,
    )
    def invite(
        self,
        records: NamedDependency[Records],
        credit_code: FromPath[str],
        data: JSONBody[ColleagueInvitation],
        runtime: NamedDependency[TenantRuntime],
        auth: NamedDependency[Auth],
        actor: NamedDependency[Actor],
    ) -> InvitationOut:
        """The colleague accepts with the mailed code (`acceptInvitation`) and speaks for the
        enterprise from then on: verified by this invitation."""
        account, expires_at = invite_colleague(
            records, auth, actor, credit_code, data.login, data.name
        )
        return InvitationOut(account=AccountOut.of(account), expires_at=expires_at)


async def claim_again(
    records: Records,
    views: TenantViews,
    auth: Auth,
    files: FileStore,
    actor: Actor,
    credit_code: str,
    documents: dict[ClaimDocument, ClaimFileIn],
) -> Account:
    """A claim made again with new documents (the API's and the portal's), for a credit code the
    account is bound to; the enterprise's accounts are told."""
    principal = records.principal
    code = records.claimed_code(validate_credit_code(credit_code))
    ledger = views.runtime.ledger
    async with received_documents(files, documents) as claim_files:
        account = await sync_to_thread(
            ledger.claim_enterprise, principal.account.id, code, claim_files, actor
        )
    await sync_to_thread(tell_the_enterprise, views, auth.store, account, code, auth.now)
    return account


def invite_colleague(
    records: Records, auth: Auth, actor: Actor, credit_code: str, login: str, name: str
) -> tuple[Account, datetime]:
    """An account that speaks for the enterprise invites a colleague; the code is mailed.
    Answers the new account and when the code expires."""
    principal = records.principal
    records.speaking_for(credit_code)
    runtime = auth.runtime
    account = runtime.ledger.invite_colleague(principal.account.id, credit_code, login, name, actor)
    expires_at = auth.mail_token(
        account,
        "invitation",
        "平台账号邀请",
        f"{principal.account.name}邀请您代表{account.enterprise_name(credit_code)}使用"
        f"{runtime.tenant.name_zh}的平台。请使用下面的确认码设置密码、启用账号：",
    )
    return account, expires_at
