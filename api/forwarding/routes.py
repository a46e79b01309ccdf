"""Forwarding to national (推荐全国), in a member association (a province or an industry
association), and the national intake, in the national association.

The province reads the national campaign it forwards to (its 成果推荐 window and the quota it
gives this province) and nothing else of the national tenant; the national tenant sees only what
was forwarded, recorded by its intake process (projections/forwarding.py).
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from litestar import Controller, Response, get, post, put
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED

from aggregates.actor import Actor, Role
from aggregates.campaign import Phase
from aggregates.forwarding import ForwardingConflict, NationalCall
from aggregates.ledger.application import AssociationLedger
from aggregates.problems import Problem
from api.forwarding.schemas import (
    ForwardIn,
    ForwardingOut,
    IntakeOut,
    ReportIn,
    WithdrawForwardIn,
    forwards_of,
)
from api.platform.access import access, only
from api.platform.dependencies import etag
from api.platform.errors import RequestProblem
from api.platform.schemas import QuotaIn
from tenants.national import national_call, national_parent
from tenants.registry import Level
from tenants.runtime import Platform, TenantRuntime

SECRETARIAT = only(Role.SECRETARIAT)
READERS = only(Role.SECRETARIAT, Role.AUDITOR)
NATIONAL_READERS = only(Role.SECRETARIAT, Role.NATIONAL_STAFF, Role.AUDITOR)


def forwarding_out(
    platform: Platform,
    runtime: TenantRuntime,
    campaign_id: UUID,
    call: NationalCall | None = None,
) -> Response[ForwardingOut]:
    """The forwarding page; `call` as the command just read it, else read here (None when the
    national campaign is not opened yet: the page says so, forwarding is refused)."""
    ledger = runtime.ledger
    parent = national_parent(platform, runtime)
    if call is None:
        try:
            call = national_call(platform, runtime, ledger.get_campaign(campaign_id))
        except ForwardingConflict:
            call = None
    forwarding = ledger.find_forwarding(campaign_id)
    nationals: dict[str, dict[str, Any] | None] = {
        key: ledger.get_submission(UUID(key)).national_record
        for key in (forwarding.forwards if forwarding is not None else {})
    }
    window = call.campaign.timeline.get(Phase.RECOMMENDATION) if call is not None else None
    body = ForwardingOut(
        campaign_id=str(campaign_id),
        national_tenant=parent.tenant.code,
        national_tenant_name=parent.tenant.name_zh,
        national_campaign_id=str(call.campaign.id) if call is not None else None,
        national_campaign_title=call.campaign.title if call is not None else None,
        window_opens_at=window.opens_at if window is not None else None,
        window_closes_at=window.closes_at if window is not None else None,
        quota=call.quota if call is not None else None,
        used=len(forwarding.active) if forwarding is not None else 0,
        forwards=forwards_of(forwarding, nationals),
        report_forwarded_at=forwarding.report["forwarded_at"]
        if forwarding is not None and forwarding.report
        else None,
        version=forwarding.version if forwarding is not None else None,
    )
    headers = {"ETag": etag(forwarding.version)} if forwarding is not None else {}
    return Response(body, headers=headers)


class ForwardingController(Controller):
    """推荐全国: a member association's secretariat forwards published results."""

    path = "/api/v1/tenants/{tenant:str}/campaigns/{campaign_id:uuid}/national-forwarding"
    tags = ["forwarding 推荐全国"]

    @get("/", operation_id="showNationalForwarding", sync_to_thread=True, opt=access(READERS))
    def show(
        self,
        campaign_id: FromPath[UUID],
        runtime: NamedDependency[TenantRuntime],
        platform: NamedDependency[Platform],
    ) -> Response[ForwardingOut]:
        return forwarding_out(platform, runtime, campaign_id)

    @post(
        "/results",
        operation_id="forwardResult",
        sync_to_thread=True,
        opt=access(SECRETARIAT),
        status_code=HTTP_201_CREATED,
    )
    def forward(
        self,
        campaign_id: FromPath[UUID],
        data: JSONBody[ForwardIn],
        runtime: NamedDependency[TenantRuntime],
        platform: NamedDependency[Platform],
        actor: NamedDependency[Actor],
    ) -> Response[ForwardingOut]:
        submission_id = data.submission_id
        campaign = runtime.ledger.get_campaign(campaign_id)
        call = national_call(platform, runtime, campaign)
        runtime.ledger.forward_result(
            campaign_id,
            submission_id,
            call,
            data.evaluation,
            actor,
        )
        response = forwarding_out(platform, runtime, campaign_id, call)
        response.status_code = HTTP_201_CREATED
        return response

    @post(
        "/results/{submission_id:uuid}/withdraw",
        operation_id="withdrawForward",
        sync_to_thread=True,
        opt=access(SECRETARIAT),
        status_code=HTTP_200_OK,
    )
    def withdraw(
        self,
        campaign_id: FromPath[UUID],
        submission_id: FromPath[UUID],
        data: JSONBody[WithdrawForwardIn],
        runtime: NamedDependency[TenantRuntime],
        platform: NamedDependency[Platform],
        actor: NamedDependency[Actor],
    ) -> Response[ForwardingOut]:
        runtime.ledger.withdraw_forward(campaign_id, submission_id, data.reason, actor)
        return forwarding_out(platform, runtime, campaign_id)

    @put("/report", operation_id="forwardReport", sync_to_thread=True, opt=access(SECRETARIAT))
    def report(
        self,
        campaign_id: FromPath[UUID],
        data: JSONBody[ReportIn],
        runtime: NamedDependency[TenantRuntime],
        platform: NamedDependency[Platform],
        actor: NamedDependency[Actor],
    ) -> Response[ForwardingOut]:
        campaign = runtime.ledger.get_campaign(campaign_id)
        call = national_call(platform, runtime, campaign)
        runtime.ledger.forward_report(
            campaign_id, call, data.statistics.to_form(), data.summary, actor
        )
        return forwarding_out(platform, runtime, campaign_id, call)


def national_ledger(runtime: TenantRuntime) -> AssociationLedger:
    if runtime.tenant.level is not Level.NATIONAL:
        raise RequestProblem(404, Problem("tenant", "not_national", "只有全国协会接收推荐"))
    return runtime.ledger


class IntakeController(Controller):
    """The national intake: what each member association forwarded, as received."""

    path = "/api/v1/tenants/{tenant:str}/campaigns/{campaign_id:uuid}/intake"
    tags = ["forwarding 推荐全国"]

    @get("/", operation_id="listIntake", sync_to_thread=True, opt=access(NATIONAL_READERS))
    def list(
        self,
        campaign_id: FromPath[UUID],
        runtime: NamedDependency[TenantRuntime],
    ) -> list[IntakeOut]:
        ledger = national_ledger(runtime)
        campaign = ledger.get_campaign(campaign_id)
        base = campaign.rules.recommending_unit_quota
        return [
            IntakeOut.of(intake, unit.name_zh, base)
            for unit in runtime.tenant.recommending_units
            if (intake := ledger.find_intake(campaign_id, unit.code))
        ]

    @post(
        "/{unit:str}/quota",
        operation_id="grantForwardingQuota",
        sync_to_thread=True,
        opt=access(SECRETARIAT),
        status_code=HTTP_200_OK,
    )
    def grant(
        self,
        campaign_id: FromPath[UUID],
        unit: FromPath[str],
        data: JSONBody[QuotaIn],
        runtime: NamedDependency[TenantRuntime],
        actor: NamedDependency[Actor],
    ) -> IntakeOut:
        ledger = national_ledger(runtime)
        found = runtime.tenant.unit(unit)
        if found is None or found.tenant is None:
            raise RequestProblem(
                404, Problem("unit", "not_found", "没有该推荐单位，或它不在平台上推荐")
            )
        campaign = ledger.get_campaign(campaign_id)
        intake = ledger.grant_forwarding_quota(
            campaign_id, unit, found.tenant, data.extra, data.reason, actor
        )
        return IntakeOut.of(intake, found.name_zh, campaign.rules.recommending_unit_quota)
