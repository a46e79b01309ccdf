"""The one lookup across tenants that a member association's commands need: its national
parent, and the national campaign it forwards to (with the quota it gives this association).
Nothing else of another tenant is read (ADR 0012)."""

from __future__ import annotations

from aggregates.campaign import Campaign, CampaignNotFound
from aggregates.forwarding import ForwardingConflict, NationalCall
from aggregates.problems import NotFound, Problem
from tenants.runtime import Platform, TenantRuntime


class NoNationalParent(NotFound):
    def __init__(self) -> None:
        super().__init__(Problem("tenant", "no_national_parent", "本协会没有可推荐的全国协会"))


def national_parent(platform: Platform, runtime: TenantRuntime) -> TenantRuntime:
    """The tenant's national parent; NoNationalParent (404) for one that has none."""
    tenant = runtime.tenant
    parent = platform.get(tenant.national_parent) if tenant.national_parent else None
    if parent is None:
        raise NoNationalParent()
    return parent


def national_call(platform: Platform, runtime: TenantRuntime, campaign: Campaign) -> NationalCall:
    """The national campaign of the same programme and year in this tenant's national parent,
    with the quota it gives this tenant; a clear 409 where there is none."""
    parent = national_parent(platform, runtime)
    unit = platform.registry.national_unit(runtime.tenant.code)
    if unit is None:  # the registry refuses such a configuration; kept for the type
        raise NoNationalParent()
    ledger = parent.ledger
    try:
        national = ledger.get_campaign(
            Campaign.create_id(parent.tenant.code, campaign.programme, campaign.year)
        )
    except CampaignNotFound:
        raise ForwardingConflict(
            Problem(
                "national_campaign",
                "not_opened",
                f"{parent.tenant.name_zh}尚未开设{campaign.year}年度的该项全国活动",
            )
        ) from None
    return NationalCall(
        tenant=parent.tenant.code,
        tenant_name=parent.tenant.name_zh,
        campaign=national,
        unit=unit.code,
        quota=ledger.forwarding_quota(national, unit.code),
    )
