"""An account's claim to speak for an enterprise (ADR 0017): the documents it is made with and
where it stands. Values the Account aggregate records; its events live on the Account."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any


class ClaimDocument(StrEnum):
    """The documents an enterprise's claim is made with."""

    BUSINESS_LICENCE = "business_licence"
    """营业执照"""
    AUTHORISATION_LETTER = "authorisation_letter"
    """授权委托书, with the enterprise's seal, naming the person"""


CLAIM_DOCUMENT_NAMES_ZH = {
    ClaimDocument.BUSINESS_LICENCE: "营业执照",
    ClaimDocument.AUTHORISATION_LETTER: "授权委托书（加盖公章）",
}


class ClaimStatus(StrEnum):
    AWAITING_VERIFICATION = "awaiting_verification"
    VERIFIED = "verified"
    REFUSED = "refused"


class Verification(StrEnum):
    """How an account came to speak for its enterprise."""

    SECRETARIAT = "secretariat"
    RECOMMENDING_UNIT = "recommending_unit"
    """A recommending unit, where the tenant delegates verification to its units."""
    INVITATION = "invitation"
    """Invited by an account that speaks for the enterprise (its administrator)."""


@dataclass(frozen=True)
class ClaimFile:
    """One document of a claim, kept in the tenant's file store under its SHA-256."""

    document: ClaimDocument
    name: str
    content_type: str
    size: int
    sha256: str

    def to_state(self) -> dict[str, Any]:
        return {
            "document": self.document.value,
            "name": self.name,
            "content_type": self.content_type,
            "size": self.size,
            "sha256": self.sha256,
        }

    @classmethod
    def from_state(cls, state: dict[str, Any]) -> ClaimFile:
        return cls(
            ClaimDocument(state["document"]),
            state["name"],
            state["content_type"],
            int(state["size"]),
            state["sha256"],
        )


@dataclass(frozen=True)
class EnterpriseClaim:
    """Where an account's claim to speak for an enterprise stands."""

    credit_code: str
    enterprise_name: str
    status: ClaimStatus
    files: tuple[ClaimFile, ...] = ()
    via: Verification | None = None
    reason: str | None = None

    @classmethod
    def from_state(cls, credit_code: str, state: dict[str, Any]) -> EnterpriseClaim:
        return cls(
            credit_code,
            state["enterprise_name"],
            ClaimStatus(state["status"]),
            tuple(ClaimFile.from_state(f) for f in state["files"]),
            Verification(state["via"]) if state.get("via") else None,
            state.get("reason"),
        )
