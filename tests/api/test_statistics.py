"""The platform's own figures (活动统计), on SQLite and PostgreSQL: every figure of every view is
checked against counts computed in the test from the ledger's aggregates (see statistics_world)."""

from __future__ import annotations

import io
from decimal import Decimal
from typing import Any

import pytest
from openpyxl import load_workbook

from aggregates.actor import Role
from tenants.runtime import TenantRuntime
from tests.api.conftest import sign_in
from tests.api.published_world import Client, Secretariat, ok
from tests.api.statistics_world import (
    CAQ,
    DIMENSIONS,
    SAQ,
    World,
    as_read,
    entries,
    expected,
    statistics_world,
)
from tests.support import Clock

pytestmark = pytest.mark.tenants("saq", "caq")

VIEWS: list[tuple[str | None, dict[str, str]]] = [
    (None, {}),
    *((by, {}) for by in DIMENSIONS),
    ("topic_type", {"key_domain": "制造"}),
    ("recommending_unit", {"industry": "集成电路"}),
    ("key_domain", {"industry": "集成电路"}),
]


def runtime(client: Client, code: str) -> TenantRuntime:
    return client.app.state.platform.tenants[code]  # type: ignore[no-any-return]


async def read(
    client: Client, secretariat: Secretariat, base: str, by: str | None, filters: dict[str, str]
) -> Any:
    params = filters | ({"by": by} if by else {})
    response = await client.get(
        f"{base}/statistics", params=params, headers=await secretariat.headers()
    )
    return ok(response, 200, f"statistics by {by} {filters}")


async def check_every_view(
    client: Client, clock: Clock, tenant: str, campaign_id: str, previous_id: str | None
) -> None:
    base = f"/api/v1/tenants/{tenant}/campaigns/{campaign_id}"
    secretariat = Secretariat(client, clock, tenant)
    rows = entries(runtime(client, tenant), campaign_id)
    previous_rows = entries(runtime(client, tenant), previous_id) if previous_id else None
    for by, filters in VIEWS:
        found = await read(client, secretariat, base, by, filters)
        totals, groups = expected(rows, by, filters)
        assert found["previous_campaign_id"] == previous_id
        assert as_read(found["totals"]["figures"]) == {**totals}, (by, filters)
        assert {g["key"]: as_read(g["figures"]) for g in found["groups"]} == groups, (by, filters)
        if previous_rows is None:
            assert found["totals"]["previous_year"] is None
            continue
        last_totals, last_groups = expected(previous_rows, by, filters)
        assert as_read(found["totals"]["previous_year"]) == last_totals, (by, filters)
        for group in found["groups"]:
            last = last_groups.get(group["key"])
            if last is not None:
                assert as_read(group["previous_year"]) == last, (by, filters, group["key"])
            else:
                assert group["previous_year"]["submissions"] == 0
        now, then = totals["submissions"], last_totals["submissions"]
        change = (Decimal(now - then) * 100 / then).quantize(Decimal("0.01"))
        assert Decimal(found["totals"]["change"]["submissions"]) == change


async def test_every_figure_follows_from_the_events(client: Client, clock: Clock) -> None:
    world = await statistics_world(client, clock)
    this_year = world.this_year.campaign_id
    await check_every_view(client, clock, "saq", this_year, world.last_year.campaign_id)
    await check_every_view(client, clock, "saq", world.last_year.campaign_id, None)
    await check_every_view(client, clock, "caq", world.caq_campaign_id, None)
    await sanity(client, clock, world)


async def sanity(client: Client, clock: Clock, world: World) -> None:
    """The world has what each figure counts (so a figure left at zero would be caught), a
    recommending unit reads only its own, bad input is refused, and the exports agree."""
    secretariat = Secretariat(client, clock, "saq")
    base = f"{SAQ}/campaigns/{world.this_year.campaign_id}"
    totals = (await read(client, secretariat, base, None, {}))["totals"]["figures"]
    assert totals["registrations"] == 3 and totals["withdrawn"] == 1
    assert totals["submissions"] == 6 and totals["recommended"] == 6
    assert totals["graded"] == len(world.this_year.graded()) > 0
    assert (totals["forwarded"], totals["national_passed"], totals["national_rejected"]) == (
        2,
        1,
        1,
    )
    national = await read(
        client,
        Secretariat(client, clock, "caq"),
        f"{CAQ}/campaigns/{world.caq_campaign_id}",
        "recommending_unit",
        {},
    )
    assert [(g["key"], g["label"]) for g in national["groups"]] == [("shanghai", "上海市质量协会")]
    assert national["totals"]["figures"]["recommended"] == 2

    huangpu = await sign_in(client, "saq", Role.RECOMMENDING_UNIT, "huangpu")
    own = ok(await client.get(f"{base}/statistics", headers=huangpu), 200, "huangpu reads")
    assert own["totals"]["figures"]["submissions"] == 2
    assert own["totals"]["figures"]["registrations"] is None
    other = await client.get(
        f"{base}/statistics", params={"recommending_unit": "xuhui"}, headers=huangpu
    )
    assert other.status_code == 404, other.text
    bad = await client.get(
        f"{base}/statistics", params={"by": "colour"}, headers=await secretariat.headers()
    )
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "by", bad.text

    overview = ok(
        await client.get(f"{SAQ}/statistics", headers=await secretariat.headers()), 200, "overview"
    )
    assert [c["year"] for c in overview] == [2024, 2023]
    assert overview[0]["totals"]["figures"] == totals
    assert overview[0]["previous_campaign_id"] == world.last_year.campaign_id

    response = await client.get(
        f"{base}/statistics.xlsx", params={"by": "topic_type"}, headers=await secretariat.headers()
    )
    assert response.status_code == 200, response.text
    sheet = load_workbook(io.BytesIO(response.content)).active
    assert sheet is not None
    lines = {row[0]: row for row in sheet.iter_rows(min_row=3, values_only=True)}
    assert lines["合计"][1:4] == ("—", 6, 6)  # registrations name no topic type
    assert {"问题解决型", "创新型"} <= set(lines)
