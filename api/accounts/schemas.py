"""Request and response types of sign-in, registration, invitations and accounts."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from msgspec import Meta

from aggregates.account import Account, Grant
from aggregates.actor import ROLE_NAMES_ZH, Role
from aggregates.enterprise_claim import (
    CLAIM_DOCUMENT_NAMES_ZH,
    ClaimDocument,
    ClaimFile,
    EnterpriseClaim,
)
from api.platform.schemas import Reason, Request, Response

Login = Annotated[str, Meta(min_length=3, max_length=200)]
Password = Annotated[str, Meta(min_length=1, max_length=200)]
Token = Annotated[str, Meta(min_length=10, max_length=200)]
Name = Annotated[str, Meta(min_length=1, max_length=100)]
InvitedRole = Literal["secretariat", "recommending_unit", "reviewer", "auditor", "national_staff"]


class LoginRequest(Request, kw_only=True):
    login: Login
    password: Password


class ChangePasswordRequest(Request, kw_only=True):
    current_password: Password
    new_password: Password


class ResetRequest(Request, kw_only=True):
    login: Login


class ResetConfirmation(Request, kw_only=True):
    token: Token
    new_password: Password


CLAIM_FILE_MAX_BYTES = 10 * 1024 * 1024
"""The largest licence or letter accepted (a scan or a photograph)."""

CLAIM_STATUS_NAMES_ZH = {
    "awaiting_verification": "待核验",
    "verified": "已核验",
    "refused": "未通过核验",
}


class ClaimFileIn(Request, kw_only=True):
    """A document of the claim: PDF, JPEG or PNG, checked by its content."""

    name: Annotated[str, Meta(min_length=1, max_length=200)]
    """The file's name, as the enterprise uploads it."""
    content: Annotated[bytes, Meta(min_length=1, max_length=CLAIM_FILE_MAX_BYTES)]
    """The file itself, base64-encoded in the JSON body."""


class SelfRegistration(Request, kw_only=True):
    """An applicant unit registers itself (申报单位注册). The account speaks for the enterprise
    only once the secretariat has checked the two documents (ADR 0017)."""

    business_licence: ClaimFileIn
    """营业执照"""
    authorisation_letter: ClaimFileIn
    """授权委托书: with the enterprise's seal, naming this person"""

    login: Login
    """The e-mail address to sign in with; the confirmation is sent there."""
    name: Name
    """The contact person's name."""
    password: Password
    enterprise_name: Annotated[str, Meta(min_length=2, max_length=200)]
    """单位名称（以公章为准）"""
    credit_code: Annotated[str, Meta(max_length=30)]
    """统一社会信用代码"""


class ClaimRequest(Request, kw_only=True):
    """A claim made again, with new documents, after the first was refused."""

    credit_code: Annotated[str, Meta(max_length=30)]
    business_licence: ClaimFileIn
    authorisation_letter: ClaimFileIn


class TokenConfirmation(Request, kw_only=True):
    token: Token


class ReviewerProfile(Request, kw_only=True):
    work_unit: Annotated[str, Meta(min_length=2, max_length=200)]
    certificate_kind: Annotated[str, Meta(min_length=1, max_length=100)]
    """e.g. 中国质协 QC 小组评委, TGQ 评委, 全国 QC 小组评审组长"""
    certificate_number: Annotated[str, Meta(min_length=1, max_length=50)]
    mobile: Annotated[str, Meta(pattern=r"^1\d{10}$")]


class RoleBinding(Request, kw_only=True):
    """A role to grant, with what it is bound to."""

    role: InvitedRole
    unit: str | None = None
    """The recommending unit's code, for role recommending_unit."""
    reviewer: ReviewerProfile | None = None
    """The reviewer's profile, for role reviewer."""


class InvitationRequest(RoleBinding, kw_only=True):
    login: Login
    name: Name


class ColleagueInvitation(Request, kw_only=True):
    """An enterprise's account invites a colleague to speak for the enterprise too."""

    login: Login
    name: Name


class RefusalRequest(Request, kw_only=True):
    reason: Annotated[str, Meta(min_length=1, max_length=500)]
    """Why the claim is refused; the claimant reads it."""


class InvitationAcceptance(Request, kw_only=True):
    token: Token
    password: Password


class RevokeRequest(Request, kw_only=True):
    role: Role
    scope: str | None = None
    reason: Reason


class DisableRequest(Request, kw_only=True):
    reason: Reason


class EnterpriseRenameRequest(Request, kw_only=True):
    """An enterprise's change of name (更名), seen on its new business licence (ADR 0037)."""

    credit_code: Annotated[str, Meta(min_length=1, max_length=18)]
    enterprise_name: Annotated[str, Meta(min_length=1, max_length=200)]
    reason: Reason


class GrantOut(Response, kw_only=True, frozen=True):
    role: Role
    role_name_zh: str
    scope: str | None
    details: dict[str, str]


class ClaimFileOut(Response, kw_only=True, frozen=True):
    document: ClaimDocument
    document_name_zh: str
    name: str
    content_type: str
    size: int
    sha256: str

    @classmethod
    def of(cls, file: ClaimFile) -> ClaimFileOut:
        return cls(
            document=file.document,
            document_name_zh=CLAIM_DOCUMENT_NAMES_ZH[file.document],
            name=file.name,
            content_type=file.content_type,
            size=file.size,
            sha256=file.sha256,
        )


class ClaimOut(Response, kw_only=True, frozen=True):
    """Where an account's claim to speak for an enterprise stands."""

    credit_code: str
    enterprise_name: str
    status: Literal["awaiting_verification", "verified", "refused"]
    status_zh: str
    via: Literal["secretariat", "recommending_unit", "invitation"] | None
    """How it was verified."""
    reason: str | None
    """Why it was refused."""
    files: list[ClaimFileOut]

    @classmethod
    def of(cls, claim: EnterpriseClaim) -> ClaimOut:
        return cls(
            credit_code=claim.credit_code,
            enterprise_name=claim.enterprise_name,
            status=claim.status.value,
            status_zh=CLAIM_STATUS_NAMES_ZH[claim.status.value],
            via=claim.via.value if claim.via else None,
            reason=claim.reason,
            files=[ClaimFileOut.of(f) for f in claim.files],
        )


class AccountOut(Response, kw_only=True, frozen=True):
    id: str
    login: str
    name: str
    status: str
    locked_until: datetime | None
    grants: list[GrantOut]
    speaks_for: list[str]
    """The credit codes of the enterprises the account speaks for (ADR 0017)."""
    claims: list[ClaimOut]
    """Its claims to speak for an enterprise: awaiting verification, verified or refused."""
    version: int

    @classmethod
    def of(cls, account: Account) -> AccountOut:
        return cls(
            id=str(account.id),
            login=account.login,
            name=account.name,
            status=account.status.value,
            locked_until=account.locked_until
            if account.locked_until and account.locked_until.year < 9999
            else None,
            grants=[_grant_out(g) for g in account.grants],
            speaks_for=sorted(account.speaks_for()),
            claims=[ClaimOut.of(c) for c in account.claims()],
            version=account.version,
        )


def _grant_out(grant: Grant) -> GrantOut:
    return GrantOut(
        role=grant.role,
        role_name_zh=ROLE_NAMES_ZH[grant.role],
        scope=grant.scope,
        details=dict(grant.details),
    )


class SessionOut(Response, kw_only=True, frozen=True):
    token: str
    """For API clients: send as `Authorization: Bearer <token>`. Pages use the cookie instead."""
    csrf_token: str
    """Pages signed in by cookie send it back as the X-CSRF-Token header on every change."""
    expires_at: datetime
    account: AccountOut


class InvitationOut(Response, kw_only=True, frozen=True):
    account: AccountOut
    expires_at: datetime


class Accepted(Response, kw_only=True, frozen=True):
    message: str


class QueuedClaimOut(ClaimOut, kw_only=True, frozen=True):
    """A claim in the verifiers' queue, with who made it and links to its documents."""

    account_id: str
    login: str
    name: str
    """The person the authorisation letter must name."""
    file_urls: dict[str, str]
    """Each document's download link, by its SHA-256."""
