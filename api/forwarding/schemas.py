"""Request and response bodies of forwarding to national (推荐全国) and the national intake."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any
from uuid import UUID

import msgspec
from msgspec import Meta

from aggregates.forwarding import Forwarding
from aggregates.intake import Intake
from api.platform.schemas import Request, Response
from api.recommending.schemas import StatisticsIn

NATIONAL_STATUS_NAMES_ZH = {
    "forwarded": "已推荐全国，待全国形式审查",
    "withdrawn": "已撤回推荐",
    "passed": "全国形式审查通过",
    "rejected": "全国形式审查未通过",
    "graded": "已获评全国等级",
    "not_graded": "未获评全国等级",
}


def national_status_name(national: dict[str, Any]) -> str:
    """What the province reads on its record: the national grade's own name once published."""
    if national["status"] == "graded" and national.get("grade_name"):
        return str(national["grade_name"])
    status = str(national["status"])
    return NATIONAL_STATUS_NAMES_ZH.get(status, status)


class ForwardIn(Request, kw_only=True):
    submission_id: UUID
    evaluation: Annotated[str, Meta(max_length=2000)]
    """省级（行业）协会推荐意见, within the national campaign's limit (300 characters by default)."""


class WithdrawForwardIn(Request, kw_only=True):
    reason: Annotated[str, Meta(max_length=500)]


class ReportIn(Request, kw_only=True):
    statistics: StatisticsIn
    summary: Annotated[str, Meta(max_length=100_000)]


class NationalOut(Response, kw_only=True, frozen=True):
    """Where a forwarded result stands in national review, as its province sees it."""

    status: str
    status_name_zh: str
    national_tenant: str
    national_submission_id: str
    formal_review: str | None
    grade: str | None
    grade_name: str | None
    certificate_code: str | None
    reason: str | None
    history: list[dict[str, Any]]

    @classmethod
    def of(cls, national: dict[str, Any]) -> NationalOut:
        return cls(
            status=national["status"],
            status_name_zh=national_status_name(national),
            national_tenant=national["national_tenant"],
            national_submission_id=str(national["national_submission_id"]),
            formal_review=national["formal_review"],
            grade=national["grade"],
            grade_name=national["grade_name"],
            certificate_code=national["certificate_code"],
            reason=national["reason"],
            history=msgspec.to_builtins(national["history"]),
        )


class ForwardOut(Response, kw_only=True, frozen=True):
    submission_id: str
    national_submission_id: str
    serial: str
    title: str
    unit_name: str
    grade_name: str
    evaluation: str
    forwarded_at: datetime
    withdrawn_reason: str | None
    national: NationalOut | None


class ForwardingOut(Response, kw_only=True, frozen=True):
    """推荐全国 of one campaign: the national campaign it goes to, its window and quota, what
    was forwarded and where each stands."""

    campaign_id: str
    national_tenant: str
    national_tenant_name: str
    national_campaign_id: str | None
    """None until the national association opens its campaign of this programme and year."""
    national_campaign_title: str | None
    window_opens_at: datetime | None
    window_closes_at: datetime | None
    quota: int | None
    used: int
    forwards: list[ForwardOut]
    report_forwarded_at: datetime | None
    version: int | None


class ReceivedOut(Response, kw_only=True, frozen=True):
    submission_id: str
    origin_submission_id: str
    serial: str
    received_at: datetime
    withdrawn_reason: str | None


class IntakeOut(Response, kw_only=True, frozen=True):
    """What one member association forwarded to a national campaign, as received."""

    unit: str
    unit_name: str
    origin_tenant: str
    quota: int | None
    used: int
    received: list[ReceivedOut]
    report_received_at: datetime | None
    roster: list[dict[str, str]]

    @classmethod
    def of(cls, intake: Intake, unit_name: str, base_quota: int | None) -> IntakeOut:
        received = sorted(intake.received.values(), key=lambda r: r["serial"])
        roster = {
            r["certificate_number"]: r for rows in intake.rosters.values() for r in rows
        }.values()
        return cls(
            unit=intake.unit,
            unit_name=unit_name,
            origin_tenant=intake.origin_tenant,
            quota=intake.quota(base_quota),
            used=sum(1 for r in received if r["withdrawn_reason"] is None),
            received=[
                ReceivedOut(
                    submission_id=str(r["submission_id"]),
                    origin_submission_id=str(r["origin_submission_id"]),
                    serial=r["serial"],
                    received_at=r["received_at"],
                    withdrawn_reason=r["withdrawn_reason"],
                )
                for r in received
            ],
            report_received_at=intake.report["received_at"] if intake.report else None,
            roster=[dict(r) for r in roster],
        )


def forwards_of(
    forwarding: Forwarding | None, nationals: dict[str, dict[str, Any] | None]
) -> list[ForwardOut]:
    if forwarding is None:
        return []
    return [
        ForwardOut(
            submission_id=str(f["submission_id"]),
            national_submission_id=str(f["national_submission_id"]),
            serial=f["serial"],
            title=f["title"],
            unit_name=f["unit_name"],
            grade_name=f["grade_name"],
            evaluation=f["evaluation"],
            forwarded_at=f["forwarded_at"],
            withdrawn_reason=f["withdrawn_reason"],
            national=NationalOut.of(n) if (n := nationals.get(key)) else None,
        )
        for key, f in forwarding.forwards.items()
    ]
