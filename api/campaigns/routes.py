"""Campaigns (活动): open, list, show, which phases are open, and the secretariat's commands."""

from __future__ import annotations

from datetime import datetime
from functools import partial
from typing import Annotated, Any
from uuid import UUID

from litestar import Controller, Request, Response, get, post
from litestar.concurrency import sync_to_thread
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery, HeaderParameter, JSONBody, QueryParameter
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED

from aggregates.actor import Actor, Role
from aggregates.campaign import Campaign, Phase, Programme
from aggregates.ledger.base import Saved
from api.campaigns.schemas import (
    AmendRulesRequest,
    ArchiveCampaignRequest,
    CampaignListItem,
    CampaignOut,
    DeleteRehearsalRequest,
    ExtendDeadlineRequest,
    OpenCampaignRequest,
    OpenPhasesOut,
    PhaseNowRequest,
    ReopenPhaseRequest,
    WindowIn,
    windows_out,
)
from api.platform.access import SIGNED_IN, access, only, principal_of
from api.platform.boundary import checked_moment
from api.platform.dependencies import etag
from api.platform.schemas import in_zone
from projections.campaign_list import LISTED, kept_campaigns, list_campaigns
from projections.service import TenantViews
from tenants.runtime import TenantRuntime

IdempotencyKey = Annotated[
    str | None,
    HeaderParameter(name="Idempotency-Key", required=False, min_length=1, max_length=200),
]


def campaign_response(
    saved: Saved[Campaign], runtime: TenantRuntime, views: TenantViews, status: int = HTTP_200_OK
) -> Response[CampaignOut]:
    """The campaign as saved, once the read models show it (read-your-writes)."""
    views.wait(saved.position)
    campaign = saved.aggregate
    headers = {"ETag": etag(campaign.version)}
    if status == HTTP_201_CREATED:
        headers["Location"] = f"/api/v1/tenants/{runtime.tenant.code}/campaigns/{campaign.id}"
    return Response(
        CampaignOut.of(campaign, runtime.tenant.zone), status_code=status, headers=headers
    )


class CampaignController(Controller):
    path = "/api/v1/tenants/{tenant:str}/campaigns"
    tags = ["campaigns 活动"]

    @post("/", operation_id="openCampaign", sync_to_thread=True, opt=access(only(Role.SECRETARIAT)))
    def open_campaign(
        self,
        data: JSONBody[OpenCampaignRequest],
        runtime: NamedDependency[TenantRuntime],
        views: NamedDependency[TenantViews],
        actor: NamedDependency[Actor],
        idempotency_key: IdempotencyKey = None,
    ) -> Response[CampaignOut]:
        command = data.command(runtime.tenant)
        saved = runtime.ledger.open_campaign(
            **command, actor=actor, idempotency_key=idempotency_key
        )
        return campaign_response(
            saved, runtime, views, HTTP_201_CREATED if saved.created else HTTP_200_OK
        )

    @get("/", operation_id="listCampaigns", opt=access(SIGNED_IN))
    async def list_campaigns(
        self,
        runtime: NamedDependency[TenantRuntime],
        views: NamedDependency[TenantViews],
        request: Request[Any, Any, Any],
        programme: FromQuery[Programme | None] = None,
        year: Annotated[int | None, QueryParameter(ge=2000, le=2100)] = None,
    ) -> list[CampaignListItem]:
        zone = runtime.tenant.zone
        principal = principal_of(request)  # as `authorize` admitted it
        db, position = views.db(LISTED), principal.view_positions.get(LISTED)
        # The view's position came with the session (PostgreSQL): a list kept at that position
        # is answered here, on the event loop, with no query and no thread (ADR 0031); any other
        # is read in a thread.
        rows = kept_campaigns(db, programme, year, position=position)
        if rows is not None:  # each kept row's item made once
            return [CampaignListItem.of_kept(row, zone) for row in rows]
        rows = await sync_to_thread(
            partial(
                list_campaigns,
                db,
                programme,
                year,
                upstream=runtime.ledger.name,
                position=position,
            )
        )
        return [CampaignListItem.of(row, zone) for row in rows]

    @get(
        "/{campaign_id:uuid}",
        operation_id="showCampaign",
        sync_to_thread=True,
        opt=access(SIGNED_IN),
    )
    def show_campaign(
        self, campaign_id: FromPath[UUID], runtime: NamedDependency[TenantRuntime]
    ) -> Response[CampaignOut]:
        campaign = runtime.ledger.get_campaign(campaign_id)
        return Response(
            CampaignOut.of(campaign, runtime.tenant.zone), headers={"ETag": etag(campaign.version)}
        )

    @get(
        "/{campaign_id:uuid}/open-phases",
        operation_id="openPhases",
        sync_to_thread=True,
        opt=access(SIGNED_IN),
    )
    def open_phases(
        self,
        campaign_id: FromPath[UUID],
        runtime: NamedDependency[TenantRuntime],
        at: FromQuery[datetime | None] = None,
    ) -> OpenPhasesOut:
        zone = runtime.tenant.zone
        moment = (
            in_zone(checked_moment("at", at), zone) if at else in_zone(runtime.ledger.clock(), zone)
        )
        campaign = runtime.ledger.get_campaign(campaign_id)
        phases = set(campaign.open_phases(moment))
        windows = {p: w for p, w in campaign.timeline.items() if p in phases}
        return OpenPhasesOut(at=moment, open_phases=windows_out(windows, zone))

    @post(
        "/{campaign_id:uuid}/phases/{phase:str}/reschedule",
        operation_id="reschedulePhase",
        sync_to_thread=True,
        opt=access(only(Role.SECRETARIAT)),
        status_code=HTTP_200_OK,
    )
    def reschedule_phase(
        self,
        campaign_id: FromPath[UUID],
        phase: FromPath[Phase],
        data: JSONBody[WindowIn],
        runtime: NamedDependency[TenantRuntime],
        views: NamedDependency[TenantViews],
        actor: NamedDependency[Actor],
        expected_version: NamedDependency[int | None],
    ) -> Response[CampaignOut]:
        window = data.to_window(runtime.tenant.zone)
        saved = runtime.ledger.reschedule_phase(campaign_id, phase, window, actor, expected_version)
        return campaign_response(saved, runtime, views)

    @post(
        "/{campaign_id:uuid}/phases/{phase:str}/extend-deadline",
        operation_id="extendDeadline",
        sync_to_thread=True,
        opt=access(only(Role.SECRETARIAT)),
        status_code=HTTP_200_OK,
    )
    def extend_deadline(
        self,
        campaign_id: FromPath[UUID],
        phase: FromPath[Phase],
        data: JSONBody[ExtendDeadlineRequest],
        runtime: NamedDependency[TenantRuntime],
        views: NamedDependency[TenantViews],
        actor: NamedDependency[Actor],
        expected_version: NamedDependency[int | None],
    ) -> Response[CampaignOut]:
        until = in_zone(data.until, runtime.tenant.zone)
        saved = runtime.ledger.extend_deadline(
            campaign_id, phase, until, data.reason, actor, expected_version
        )
        return campaign_response(saved, runtime, views)

    @post(
        "/{campaign_id:uuid}/phases/{phase:str}/close-now",
        operation_id="closePhaseNow",
        sync_to_thread=True,
        opt=access(only(Role.SECRETARIAT)),
        status_code=HTTP_200_OK,
    )
    def close_phase_now(
        self,
        campaign_id: FromPath[UUID],
        phase: FromPath[Phase],
        data: JSONBody[PhaseNowRequest],
        runtime: NamedDependency[TenantRuntime],
        views: NamedDependency[TenantViews],
        actor: NamedDependency[Actor],
        expected_version: NamedDependency[int | None],
    ) -> Response[CampaignOut]:
        """Close an open phase now, with a reason (once the phases it depends on have closed)."""
        saved = runtime.ledger.close_phase_now(
            campaign_id, phase, data.reason, actor, expected_version
        )
        return campaign_response(saved, runtime, views)

    @post(
        "/{campaign_id:uuid}/phases/{phase:str}/open-now",
        operation_id="openPhaseNow",
        sync_to_thread=True,
        opt=access(only(Role.SECRETARIAT)),
        status_code=HTTP_200_OK,
    )
    def open_phase_now(
        self,
        campaign_id: FromPath[UUID],
        phase: FromPath[Phase],
        data: JSONBody[PhaseNowRequest],
        runtime: NamedDependency[TenantRuntime],
        views: NamedDependency[TenantViews],
        actor: NamedDependency[Actor],
        expected_version: NamedDependency[int | None],
    ) -> Response[CampaignOut]:
        """Open a phase now, with a reason, until its close or `closes_at` (once the phases it
        depends on have closed)."""
        closes_at = in_zone(data.closes_at, runtime.tenant.zone) if data.closes_at else None
        saved = runtime.ledger.open_phase_now(
            campaign_id, phase, data.reason, actor, closes_at, expected_version
        )
        return campaign_response(saved, runtime, views)

    @post(
        "/{campaign_id:uuid}/phases/{phase:str}/reopen",
        operation_id="reopenPhase",
        sync_to_thread=True,
        opt=access(only(Role.SECRETARIAT)),
        status_code=HTTP_200_OK,
    )
    def reopen_phase(
        self,
        campaign_id: FromPath[UUID],
        phase: FromPath[Phase],
        data: JSONBody[ReopenPhaseRequest],
        runtime: NamedDependency[TenantRuntime],
        views: NamedDependency[TenantViews],
        actor: NamedDependency[Actor],
        expected_version: NamedDependency[int | None],
    ) -> Response[CampaignOut]:
        """Reopen a closed phase until a moment, with a reason; refused once a phase that depends
        on it has started."""
        until = in_zone(data.until, runtime.tenant.zone)
        saved = runtime.ledger.reopen_phase(
            campaign_id, phase, until, data.reason, actor, expected_version
        )
        return campaign_response(saved, runtime, views)

    @post(
        "/{campaign_id:uuid}/amend-rules",
        operation_id="amendRules",
        sync_to_thread=True,
        opt=access(only(Role.SECRETARIAT)),
        status_code=HTTP_200_OK,
    )
    def amend_rules(
        self,
        campaign_id: FromPath[UUID],
        data: JSONBody[AmendRulesRequest],
        runtime: NamedDependency[TenantRuntime],
        views: NamedDependency[TenantViews],
        actor: NamedDependency[Actor],
        expected_version: NamedDependency[int | None],
    ) -> Response[CampaignOut]:
        saved = runtime.ledger.amend_rules(
            campaign_id, data.rules.changes(), data.reason, actor, expected_version
        )
        return campaign_response(saved, runtime, views)

    @post(
        "/{campaign_id:uuid}/publish-results",
        operation_id="publishResults",
        sync_to_thread=True,
        opt=access(only(Role.SECRETARIAT)),
        status_code=HTTP_200_OK,
    )
    def publish_results(
        self,
        campaign_id: FromPath[UUID],
        runtime: NamedDependency[TenantRuntime],
        views: NamedDependency[TenantViews],
        actor: NamedDependency[Actor],
        expected_version: NamedDependency[int | None],
    ) -> Response[CampaignOut]:
        saved = runtime.ledger.publish_results(campaign_id, actor, expected_version)
        return campaign_response(saved, runtime, views)

    @post(
        "/{campaign_id:uuid}/archive",
        operation_id="archiveCampaign",
        sync_to_thread=True,
        opt=access(only(Role.SECRETARIAT)),
        status_code=HTTP_200_OK,
    )
    def archive_campaign(
        self,
        campaign_id: FromPath[UUID],
        data: JSONBody[ArchiveCampaignRequest],
        runtime: NamedDependency[TenantRuntime],
        views: NamedDependency[TenantViews],
        actor: NamedDependency[Actor],
        expected_version: NamedDependency[int | None],
    ) -> Response[CampaignOut]:
        saved = runtime.ledger.archive_campaign(campaign_id, data.reason, actor, expected_version)
        return campaign_response(saved, runtime, views)

    @post(
        "/{campaign_id:uuid}/delete-rehearsal",
        operation_id="deleteRehearsal",
        sync_to_thread=True,
        opt=access(only(Role.SECRETARIAT)),
        status_code=HTTP_200_OK,
    )
    def delete_rehearsal(
        self,
        campaign_id: FromPath[UUID],
        data: JSONBody[DeleteRehearsalRequest],
        runtime: NamedDependency[TenantRuntime],
        views: NamedDependency[TenantViews],
        actor: NamedDependency[Actor],
        expected_version: NamedDependency[int | None],
    ) -> Response[CampaignOut]:
        """Delete a rehearsal (演练) with everything filed in it: an event; the events stay in the
        log, the read models drop it, and every later command is refused (404)."""
        saved = runtime.ledger.delete_rehearsal(campaign_id, data.reason, actor, expected_version)
        return campaign_response(saved, runtime, views)
