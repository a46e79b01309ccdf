"""The published-world builder, on SQLite and PostgreSQL: two provincial tenants of one app each
publish a campaign, and each tenant's results list says what the builder returned."""

from __future__ import annotations

import pytest

from aggregates.actor import Role
from tests.api.conftest import sign_in
from tests.api.published_world import Client, Published, publish_campaign
from tests.support import Clock

pytestmark = pytest.mark.tenants("saq", "sdaq")


async def published_grades(client: Client, p: Published) -> dict[str, str | None]:
    headers = await sign_in(client, p.tenant, Role.SECRETARIAT)
    response = await client.get(
        f"/api/v1/tenants/{p.tenant}/campaigns/{p.campaign_id}/results", headers=headers
    )
    assert response.status_code == 200, response.text
    rows = response.json()
    assert all(r["status"] == "published" for r in rows), rows
    assert all(bool(r["certificate_code"]) == bool(r["grade"]) for r in rows), rows
    return {r["submission_id"]: r["grade"] for r in rows}


async def test_two_provinces_publish_graded_campaigns(client: Client, clock: Clock) -> None:
    cases = [
        (("huangpu", "xuhui"), "saq", {"benchmark", "excellent", "promotion"}),
        (("jinan", "qingdao"), "sdaq", {"first", "second", "third"}),
    ]
    published = [await publish_campaign(client, clock, t, units=u) for u, t, _ in cases]

    for p, (units, tenant, scale) in zip(published, cases, strict=True):
        assert p.tenant == tenant
        assert [s["unit"] for s in p.submissions] == [u for u in units for _ in range(2)]
        assert await published_grades(client, p) == {s["id"]: s["grade"] for s in p.submissions}
        assert p.graded() and p.ungraded(), p.submissions
        assert {s["grade"] for s in p.graded()} <= scale
        assert len({s["combined"] for s in p.submissions}) == 4, p.submissions
        assert all(len(s["experts"]) == 2 for s in p.submissions)
