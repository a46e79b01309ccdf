"""Situations for the forwarding tests: a national campaign open for recommendations, and
forwards streamed into a province's ledger as its secretariat would record them (the forwarding
aggregate's own rules apply; what a forward carries is a realistic dossier, built here rather
than by a whole provincial review, so hundreds of forwards take a second)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any
from uuid import UUID, uuid4

from aggregates.actor import Actor, Role
from aggregates.campaign import Campaign, CampaignRules, Contact, Phase, Programme, Window
from aggregates.forwarding import Forwarding, NationalCall
from aggregates.ledger.application import AssociationLedger
from tenants.runtime import Platform, TenantRuntime
from tests.support import beijing

YEAR = 2024
NATIONAL_SECRETARIAT = Actor("caq-sec-001", Role.SECRETARIAT)


def open_national_campaign(ledger: AssociationLedger, year: int = YEAR) -> Campaign:
    """The national QC campaign: recommendations (forwards) open all summer, formal review in
    the autumn."""
    ledger.clock = lambda: beijing(year, 6, 1)
    return ledger.open_campaign(
        programme=Programme.QC_GROUP,
        year=year,
        title=f"{year}年全国质量管理小组活动成果推荐",
        document_number=f"中国质协字〔{year}〕21号",
        theme=None,
        co_organisers=["中华全国总工会"],
        contact=Contact(person="质量活动推进部", phone="(010) 66073178"),
        period_start=date(year - 1, 1, 1),
        period_end=date(year - 1, 12, 31),
        rules=CampaignRules(),
        timeline={
            Phase.RECOMMENDATION: Window(beijing(year, 6, 1), beijing(year, 9, 15, 17)),
            Phase.FORMAL_REVIEW: Window(beijing(year, 9, 16), beijing(year, 9, 30)),
        },
        actor=NATIONAL_SECRETARIAT,
    ).aggregate


def open_provincial_campaign(ledger: AssociationLedger, year: int = YEAR) -> Campaign:
    ledger.clock = lambda: beijing(year, 6, 1)
    return ledger.open_campaign(
        programme=Programme.QC_GROUP,
        year=year,
        title=f"{year}年质量管理小组活动成果交流",
        document_number=None,
        theme=None,
        co_organisers=[],
        contact=Contact(person="杨瑾", phone="021-52588838"),
        period_start=date(year - 1, 1, 1),
        period_end=date(year - 1, 12, 31),
        rules=CampaignRules(),
        timeline={Phase.SUBMISSION: Window(beijing(year, 2, 1), beijing(year, 3, 1))},
        actor=Actor(f"{ledger.tenant}-sec", Role.SECRETARIAT),
    ).aggregate


def dossier(tenant: str, campaign: Campaign, submission_id: UUID, n: int) -> dict[str, Any]:
    """What travels with the n-th forwarded result of a province (shaped as
    `ForwardingCommands.dossier` builds it)."""
    topic = "问题解决型" if n % 2 else "创新型"
    return {
        "origin": {
            "tenant": tenant,
            "campaign_id": campaign.id,
            "campaign_title": campaign.title,
            "document_number": campaign.document_number,
            "year": campaign.year,
        },
        "title": f"第{n}号QC小组：降低焊接返修率（{topic}）",
        "submission": {
            "submission_id": submission_id,
            "serial": f"{tenant.upper()}-{campaign.year}-QC-{n:04d}",
            "credit_code": f"91310000MA1K{n:06d}",
            "applicant": {"unit_name": f"{tenant}第{n}制造有限公司", "key_domain": "制造"},
            "recommending_unit": "huangpu",
            "form": {
                "group_name": f"第{n}号QC小组",
                "topic_name": "降低焊接返修率",
                "topic_type": "problem_solving" if n % 2 else "innovative",
            },
            "attachments": [],
            "topic_type": "problem_solving" if n % 2 else "innovative",
        },
        "grade": {"code": "excellent", "name": "优秀级"},
        "scores": {
            "material": Decimal("85.50"),
            "presentation": None,
            "combined": Decimal("85.50"),
            "rank": n,
            "of": 500,
            "rounds": [],
        },
        "certificate_code": f"{tenant.upper()}-{campaign.year}-QC-TEST{n:04d}",
        "evaluation": f"选题务实，数据翔实（第{n}项）",
        "roster": [
            {
                "name": "张评委",
                "work_unit": f"{tenant}质量协会",
                "certificate_kind": "QC小组活动评审员",
                "certificate_number": f"{tenant.upper()}-R-{n % 7:03d}",
            }
        ],
    }


def national_call(platform: Platform, member: str, national_campaign: Campaign) -> NationalCall:
    unit = platform.registry.national_unit(member)
    assert unit is not None
    parent = platform.tenants[national_campaign.tenant].tenant
    return NationalCall(
        tenant=parent.code,
        tenant_name=parent.name_zh,
        campaign=national_campaign,
        unit=unit.code,
        quota=None,
    )


def forward(
    member: TenantRuntime,
    campaign: Campaign,
    call: NationalCall,
    n: int,
    submission_id: UUID | None = None,
) -> tuple[UUID, UUID]:
    """Record the n-th forward in the province's ledger: (provincial id, national id)."""
    ledger = member.ledger
    ledger.clock = lambda: beijing(campaign.year, 7, 1)
    actor = Actor(f"{ledger.tenant}-sec", Role.SECRETARIAT)
    submission_id = submission_id or uuid4()
    forwarding = ledger.find_forwarding(campaign.id) or Forwarding.start(campaign, call, actor)
    national_id = forwarding.forward(
        call,
        submission_id,
        dossier(ledger.tenant, campaign, submission_id, n),
        beijing(campaign.year, 7, 1),
        actor,
    )
    ledger.save(forwarding)
    return submission_id, national_id
