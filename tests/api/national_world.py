"""The national side of a forwarding world: CAQ's 2024 QC campaign and its review plan, a
province's secretariat at its 推荐全国 page, waiting for the other tenant's process (which records
asynchronously), and CAQ taking what it received through review to publication."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from decimal import Decimal
from typing import Any

from aggregates.review_plan import DEFAULT_CHECKLIST
from tests.api.published_world import (
    Client,
    Published,
    Secretariat,
    criteria,
    enrol_experts,
    ok,
    tenant_config,
)
from tests.support import Clock, beijing

CAQ = "/api/v1/tenants/caq"
NATIONAL_GRADE = "全国优秀质量管理小组"


def national_campaign() -> dict[str, Any]:
    """CAQ's 2024 QC campaign: provinces recommend (forward) until 15 September 17:00."""

    def window(opens: str, closes: str) -> dict[str, str]:
        return {"opens_at": f"{opens}+08:00", "closes_at": f"{closes}+08:00"}

    return {
        "programme": "qc_group",
        "year": 2024,
        "title": "2024年全国质量管理小组活动成果推荐",
        "document_number": "中国质协字〔2024〕21号",
        "contact": {"person": "质量活动推进部", "phone": "(010) 66073178"},
        "period_start": "2023-01-01",
        "period_end": "2023-12-31",
        "rules": {"recommending_unit_quota": 2},
        "timeline": {
            "recommendation": window("2024-06-01T00:00:00", "2024-09-15T17:00:00"),
            "formal_review": window("2024-09-16T00:00:00", "2024-09-30T22:00:00"),
            "material_review": window("2024-10-01T00:00:00", "2024-10-31T22:00:00"),
            "public_notice": window("2024-11-01T00:00:00", "2024-11-08T00:00:00"),
            "publication": window("2024-11-08T00:00:00", "2024-11-30T22:00:00"),
        },
    }


async def eventually(
    check: Callable[[], Awaitable[bool]], what: str, timeout: float = 30.0
) -> None:
    """The other tenant's process records asynchronously: wait for it, bounded."""
    deadline = time.monotonic() + timeout
    while not await check():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        await asyncio.sleep(0.05)


class Forwarder:
    """A province's secretariat at its 推荐全国 page."""

    def __init__(self, client: Client, clock: Clock, published: Published) -> None:
        self.client, self.published = client, published
        self.secretariat = Secretariat(client, clock, published.tenant)
        self.base = (
            f"/api/v1/tenants/{published.tenant}/campaigns/{published.campaign_id}"
            "/national-forwarding"
        )

    async def forward(self, submission: dict[str, Any], status: int = 201) -> Any:
        body = {"submission_id": submission["id"], "evaluation": f"推荐：{submission['title']}"}
        response = await self.client.post(
            f"{self.base}/results", json=body, headers=await self.secretariat.headers()
        )
        return ok(response, status, f"{self.published.tenant} forwards {submission['id']}")

    async def page(self) -> Any:
        response = await self.client.get(self.base, headers=await self.secretariat.headers())
        return ok(response, 200, f"{self.published.tenant} reads its forwarding")

    async def record(self, submission_id: str) -> Any:
        response = await self.client.get(
            f"/api/v1/tenants/{self.published.tenant}/submissions/{submission_id}",
            headers=await self.secretariat.headers(),
        )
        return ok(response, 200, f"{self.published.tenant} reads {submission_id}")


NATIONAL_PLAN = {
    "rounds": [{"code": "national", "name_zh": "全国评审", "reviewers_per_submission": 2}],
    "grading": "score",
    "bands": [{"grade": "national_excellent", "min_score": "75"}],
}
"""CAQ's review plan: one round of two reviewers each, 全国优秀 from 75 points."""


async def publish_national(
    client: Client,
    clock: Clock,
    national: Secretariat,
    campaign_id: str,
    levels: dict[str, Decimal],
) -> dict[str, str | None]:
    """CAQ takes the received results in `levels` (national submission id → how good, 0 to 1)
    through formal review (all passed), its round (`NATIONAL_PLAN`: three experts enrolled,
    assigned automatically), grading, the notice and publication; business time is left on
    publication day (8 November 2024). The national grade of each result."""
    base = f"{CAQ}/campaigns/{campaign_id}"
    clock.now = beijing(2024, 9, 20, 9, 0)
    headers = await national.headers()
    checklist = dict.fromkeys(DEFAULT_CHECKLIST, True)
    for submission_id in levels:
        ok(
            await client.post(
                f"{CAQ}/submissions/{submission_id}/formal-review",
                json={"decision": "pass", "checklist": checklist},
                headers=headers,
            ),
            200,
            f"caq formal review of {submission_id}",
        )
    clock.now = beijing(2024, 10, 8, 9, 0)
    headers = await national.headers()
    experts = await enrol_experts(client, CAQ, tenant_config(client, "caq"), 2024, headers)
    entrants = ok(
        await client.post(f"{base}/rounds/national", json={}, headers=headers), 201, "open round"
    )["entrants"]
    assigned = ok(
        await client.post(
            f"{base}/rounds/national/assignments/auto",
            json={"certificate_numbers": experts},
            headers=headers,
        ),
        200,
        "assign national reviewers",
    )["assignments"]
    rubrics = {e["submission_id"]: e["rubric"] for e in entrants}
    for submission_id, level in levels.items():
        for reviewer in assigned[submission_id]:
            sheet = {
                "submission_id": submission_id,
                "reviewer": reviewer,
                "criteria": criteria(rubrics[submission_id], level),
            }
            ok(
                await client.post(f"{base}/rounds/national/sheets", json=sheet, headers=headers),
                201,
                "national sheet",
            )
    for step in ("aggregate", "close"):
        ok(await client.post(f"{base}/rounds/national/{step}", headers=headers), 200, step)
    clock.now = beijing(2024, 11, 1, 9, 0)
    headers = await national.headers()
    graded = ok(await client.post(f"{base}/grading", headers=headers), 201, "grade")
    ok(await client.post(f"{base}/notice", headers=headers), 200, "open notice")
    clock.now = beijing(2024, 11, 8, 9, 0)
    headers = await national.headers()
    ok(await client.post(f"{base}/notice/close", headers=headers), 200, "close notice")
    ok(await client.post(f"{base}/publish-results", headers=headers), 200, "publish")
    return {e["submission_id"]: e["grade"] for e in graded["entries"]}
