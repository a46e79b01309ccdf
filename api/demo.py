"""Demo data: the seeds' campaigns, opened through the ledgers as a secretariat would."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import msgspec

from aggregates.actor import Actor, Role
from aggregates.campaign import CampaignAlreadyOpened
from api.schemas import OpenCampaignRequest
from tenants.runtime import Platform

DEMO_FILE = Path(__file__).with_name("demo_campaigns.toml")
DEMO_ACTOR = Actor(user_id="qcflow-demo", role=Role.OPERATOR)


class DemoCampaign(OpenCampaignRequest, kw_only=True):
    tenant: str
    no_limits: list[str] = []
    """Rules the notice leaves unlimited (TOML has no null)."""


class DemoFile(msgspec.Struct, forbid_unknown_fields=True):
    campaigns: list[DemoCampaign]


def load_demo(platform: Platform, path: Path = DEMO_FILE) -> list[str]:
    """Open each demo campaign not open yet; returns a line per campaign saying what happened."""
    demo = msgspec.toml.decode(path.read_bytes(), type=DemoFile)
    report = []
    for campaign in demo.campaigns:
        runtime = platform.get(campaign.tenant)
        if runtime is None:
            report.append(f"{campaign.tenant}: no such tenant, skipped {campaign.title}")
            continue
        command = campaign.command(runtime.tenant)
        command["rules"] = replace(command["rules"], **dict.fromkeys(campaign.no_limits))
        key = f"demo:{campaign.tenant}:{campaign.programme}:{campaign.year}"
        try:
            saved = runtime.ledger.open_campaign(**command, actor=DEMO_ACTOR, idempotency_key=key)
        except CampaignAlreadyOpened:
            report.append(f"{campaign.tenant}: already open (not by the demo): {campaign.title}")
            continue
        verb = "opened" if saved.created else "already there"
        report.append(f"{campaign.tenant}: {verb}: {campaign.title}")
    return report
