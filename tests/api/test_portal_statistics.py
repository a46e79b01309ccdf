"""Statistics in the browser, through the test client on SQLite and PostgreSQL: the campaign page,
the tenant's overview and the roll-ups show the API's figures (read here from the JSON API and
compared cell by cell), the filters are kept in the URL, the exports are the API's, a chart has one
mark per group, and a recommending unit sees only its own unit's figures (a 404 page otherwise)."""

from __future__ import annotations

import html
import io
import re
from decimal import Decimal
from typing import Any

import pytest
from openpyxl import load_workbook

from aggregates.actor import Role
from tests.api.conftest import sign_in
from tests.api.national_world import CAQ, eventually, national_campaign
from tests.api.published_world import (
    Client,
    Secretariat,
    campaign_body,
    cheap_passwords,
    credit_code,
    ok,
    publish_campaign,
    tenant_config,
)
from tests.api.statistics_world import SAQ, statistics_world
from tests.api.test_portal_national import page_session
from tests.api.test_recommendations import SUMMARY
from tests.api.test_statistics_rollup import table
from tests.support import Clock, beijing

pytestmark = pytest.mark.tenants("saq", "cmiqa", "caq")

STAGES = (
    "registrations",
    "submissions",
    "recommended",
    "formal_passed",
    "graded",
    "forwarded",
    "national_graded",
)
RATES = (
    "recommendation_rate",
    "formal_pass_rate",
    "grading_rate",
    "forwarding_rate",
    "national_grading_rate",
)


def cell(text: str) -> str:
    return html.unescape(re.sub(r"<[^>]+>", "", text)).strip()


def percent(value: Any) -> str:
    return "—" if value is None else f"{Decimal(str(value))}%"


def shown(value: Any) -> str:
    return "—" if value is None else str(value)


def totals_on(page: str) -> dict[str, str]:
    """The totals table: stage → count; rates table: rate → value."""
    found = {
        m[1]: cell(m[2])
        for m in re.finditer(r'<tr data-stage="(\w+)">.*?class="stat-count">(.*?)</td>', page, re.S)
    }
    found |= {
        m[1]: cell(m[2])
        for m in re.finditer(r'<tr data-rate="(\w+)">.*?<td[^>]*>(.*?)</td>', page, re.S)
    }
    return found


def groups_on(page: str) -> dict[str, dict[str, str]]:
    """The groups table: group key → stage or rate → the cell's text."""
    found: dict[str, dict[str, str]] = {}
    for key, row in re.findall(r'<tr data-group(?:-rates)?="([^"]*)">(.*?)</tr>', page, re.S):
        cells = re.finditer(r'data-(?:stage|rate)="(\w+)">(.*?)</td>', row)
        found.setdefault(html.unescape(key), {}).update({m[1]: cell(m[2]) for m in cells})
    return found


def expected_totals(found: dict[str, Any]) -> dict[str, str]:
    figures = found["totals"]["figures"]
    stages = {s: shown(figures[s]) for s in STAGES if figures[s] is not None}
    return (
        stages
        | {"withdrawn": str(figures["withdrawn"])}
        | {r: percent(figures["rates"][r]) for r in RATES}
    )


def expected_groups(found: dict[str, Any]) -> dict[str, dict[str, str]]:
    with_registrations = found["totals"]["figures"]["registrations"] is not None
    return {
        g["key"] or "": {
            **{
                s: shown(g["figures"][s])
                for s in STAGES
                if s != "registrations" or with_registrations
            },
            "withdrawn": str(g["figures"]["withdrawn"]),
            **{r: percent(g["figures"]["rates"][r]) for r in RATES},
        }
        for g in found["groups"]
    }


def marks(page: str, chart: str) -> int:
    figure = re.search(
        rf'<figure class="chart" data-chart="{chart}" data-groups="(\d+)">(.*?)</figure>',
        page,
        re.S,
    )
    assert figure is not None, chart
    assert figure[2].count('class="mark"') == int(figure[1])
    return int(figure[1])


VIEWS: list[dict[str, str]] = [
    {},
    {"by": "recommending_unit"},
    {"by": "key_domain"},
    {"by": "industry"},
    {"by": "topic_type"},
    {"by": "topic_type", "key_domain": "制造"},
    {"by": "recommending_unit", "industry": "集成电路"},
]


async def test_the_campaign_pages_show_the_apis_figures_and_a_unit_only_its_own(
    client: Client, clock: Clock
) -> None:
    world = await statistics_world(client, clock)
    campaign_id = world.this_year.campaign_id
    secretariat = Secretariat(client, clock, "saq")
    api = f"{SAQ}/campaigns/{campaign_id}/statistics"
    answers = [
        ok(await client.get(api, params=v, headers=await secretariat.headers()), 200, str(v))
        for v in VIEWS
    ]
    overview_api = ok(
        await client.get(f"{SAQ}/statistics", headers=await secretariat.headers()), 200, "tenant"
    )
    xlsx_api = await client.get(
        f"{api}.xlsx", params={"by": "key_domain"}, headers=await secretariat.headers()
    )
    unit_api = ok(
        await client.get(
            api,
            params={"by": "topic_type"},
            headers=await sign_in(client, "saq", Role.RECOMMENDING_UNIT, "xuhui"),
        ),
        200,
        "xuhui's own",
    )

    client.headers.pop("authorization", None)  # the page sessions are cookies
    await page_session(client, "saq", Role.SECRETARIAT)
    page_url = f"/saq/statistics/campaigns/{campaign_id}"
    for view, found in zip(VIEWS, answers, strict=True):
        page = await client.get(page_url, params=view)
        assert page.status_code == 200, page.text
        assert totals_on(page.text) == expected_totals(found), view
        assert groups_on(page.text) == expected_groups(found), view
        for name, value in view.items():  # the filters are kept in the URL's form, chosen
            assert re.search(
                rf'<select id="f-{name}" name="{name}">.*?<option value="{re.escape(value)}" selected>',
                page.text,
                re.S,
            ), (view, name)
        assert marks(page.text, "funnel") == len(expected_totals(found)) - 1 - len(RATES)
        if "by" in view:
            assert marks(page.text, "graded") == len(found["groups"])
        assert marks(page.text, "years") > 0  # 2023 is the year before
    assert 'method="get"' in page.text
    by_unit = groups_on((await client.get(page_url, params=VIEWS[1])).text)
    assert set(by_unit) == {"huangpu", "xuhui", "jingan"}

    export = await client.get(f"{page_url}/statistics.xlsx", params={"by": "key_domain"})
    assert export.status_code == 200
    page_rows = list(load_workbook(io.BytesIO(export.content)).active.iter_rows(values_only=True))
    api_rows = list(load_workbook(io.BytesIO(xlsx_api.content)).active.iter_rows(values_only=True))
    assert page_rows == api_rows
    assert (
        f'href="{page_url}/statistics.xlsx?by=key_domain"'
        in (await client.get(page_url, params={"by": "key_domain"})).text
    )

    overview = await client.get("/saq/statistics/")
    assert overview.status_code == 200, overview.text
    for row in overview_api:
        cells = re.search(
            rf'<tr data-campaign="{row["campaign_id"]}">(.*?)</tr>', overview.text, re.S
        )
        assert cells is not None, row["title"]
        for stage in ("submissions", "recommended", "graded", "forwarded"):
            assert f'data-stage="{stage}">{row["totals"]["figures"][stage]}<' in cells[1]
    assert marks(overview.text, "years-qc_group") == len(
        [r for r in overview_api if r["programme"] == "qc_group"]
    )

    await page_session(client, "saq", Role.RECOMMENDING_UNIT, "xuhui")
    own = await client.get(page_url, params={"by": "topic_type"})
    assert own.status_code == 200, own.text
    assert totals_on(own.text) == expected_totals(unit_api)
    assert groups_on(own.text) == expected_groups(unit_api)
    assert "huangpu" not in own.text and "黄浦区" not in own.text
    assert "/statistics.xlsx" not in own.text  # the exports are the secretariat's
    for refused in (
        await client.get(page_url, params={"recommending_unit": "huangpu"}),
        await client.get(f"{page_url}/roll-up"),
        await client.get(f"{page_url}/statistics.xlsx"),
    ):
        assert refused.status_code in (403, 404), refused.text
    units_overview = await client.get("/saq/statistics/")
    assert units_overview.status_code == 200
    assert f"/saq/statistics/campaigns/{campaign_id}" in units_overview.text
    assert 'data-stage="submissions"' not in units_overview.text

    await page_session(client, "saq", Role.APPLICANT_UNIT, credit_code("saq", 2024, 1))
    assert (await client.get(page_url)).status_code in (403, 404)


async def test_the_provincial_roll_up_names_who_has_not_filed_and_the_overlaps(
    client: Client, clock: Clock
) -> None:
    secretariat = Secretariat(client, clock, "saq")
    clock.now = beijing(2024, 1, 15, 9, 0)
    body = campaign_body(tenant_config(client, "saq"), 2024)
    opened = ok(
        await client.post(f"{SAQ}/campaigns", json=body, headers=await secretariat.headers()),
        201,
        "open",
    )
    base = f"{SAQ}/campaigns/{opened['id']}"
    e1, e2, e3 = (credit_code("saq", 2024, n) for n in range(1, 4))
    tables = {
        "huangpu": table([e1, e2], employees=5000, participants=1000),
        "xuhui": table([e2, e3], employees=2000, participants=1800),
    }
    clock.now = beijing(2024, 2, 1, 10, 0)
    for unit, unit_table in tables.items():
        headers = await sign_in(client, "saq", Role.RECOMMENDING_UNIT, unit)
        ok(
            await client.put(f"{base}/units/{unit}/statistics", json=unit_table, headers=headers),
            200,
            unit,
        )

    async def both_read() -> bool:
        found = await client.get(f"{base}/statistics/roll-up", headers=await secretariat.headers())
        return len(ok(found, 200, "roll-up")["units_reported"]) == 2

    await eventually(both_read, "both tables in the read model")
    rolled = ok(
        await client.get(f"{base}/statistics/roll-up", headers=await secretariat.headers()),
        200,
        "roll-up",
    )
    api_xlsx = await client.get(
        f"{base}/statistics/roll-up.xlsx", headers=await secretariat.headers()
    )

    client.headers.pop("authorization", None)
    await page_session(client, "saq", Role.AUDITOR)
    url = f"/saq/statistics/campaigns/{opened['id']}/roll-up"
    page = await client.get(url)
    assert page.status_code == 200, page.text
    for name, value in rolled["figures"].items():
        assert re.search(
            rf'<tr data-figure="{name}">.*?<td[^>]*>{re.escape(str(value))}</td>', page.text
        ), name
    assert '<tr data-figure="enterprises">' in page.text and ">3</td>" in page.text
    missing = re.findall(r'<li data-unit="(\w+)">', page.text)
    assert missing == rolled["units_missing"] and "pudong" in missing
    assert "huangpu" not in missing
    overlaps = re.search(r'id="overlaps-table">(.*?)</table>', page.text, re.S)
    assert overlaps is not None and e2 in overlaps[1] and "黄浦区、徐汇区" in overlaps[1]
    assert marks(page.text, "units") == 2
    assert "万个" not in page.text and "扣除行业直属企业数据" not in page.text
    export = await client.get(f"{url}.xlsx")
    assert export.status_code == 200
    ours, theirs = (
        {s.title: list(s.iter_rows(values_only=True)) for s in load_workbook(io.BytesIO(r.content))}
        for r in (export, api_xlsx)
    )
    assert ours == theirs


async def test_the_national_roll_up_shows_the_10k_figures_and_each_deduction_with_its_source(
    client: Client, clock: Clock
) -> None:
    saq = await publish_campaign(client, clock, "saq", units=("huangpu",), per_unit=1)
    cmiqa = await publish_campaign(client, clock, "cmiqa", units=("sinomach",), per_unit=1)
    clock.now = beijing(2024, 6, 10, 9, 0)
    national = Secretariat(client, clock, "caq")
    with cheap_passwords(client, "caq"):
        caq_headers = await national.headers()
    opened = ok(
        await client.post(f"{CAQ}/campaigns", json=national_campaign(), headers=caq_headers),
        201,
        "caq opens its campaign",
    )
    shared = credit_code("cmiqa", 2024, 77)
    shanghai = table(
        [credit_code("saq", 2024, 1), shared], registered_this_year=1354
    )  # 1234 once deducted
    own_share = {
        "employees": 3000,
        "registered_all_years": 800,
        "registered_this_year": 120,
        "participants": 900,
        "active_groups": 100,
        "groups_with_results": 90,
        "benefit_all_years_10k": "9000",
        "benefit_this_year_10k": "800.5",
        "spending_10k": "20",
        "rewards_10k": "5",
        "certified_reviewers": 2,
    }
    shanghai["itemised"] = [{"credit_code": shared, "name": "上海电气集团", "qc": own_share}]
    machinery = table([shared], employees=50000, participants=9000)
    for published, report in ((saq, shanghai), (cmiqa, machinery)):
        secretariat = Secretariat(client, clock, published.tenant)
        url = (
            f"/api/v1/tenants/{published.tenant}/campaigns/{published.campaign_id}"
            "/national-forwarding/report"
        )
        body = {"statistics": report, "summary": SUMMARY}
        ok(await client.put(url, json=body, headers=await secretariat.headers()), 200, "report")
    base = f"{CAQ}/campaigns/{opened['id']}/statistics/roll-up"

    async def both_arrived() -> bool:
        found = ok(await client.get(base, headers=await national.headers()), 200, "roll-up")
        return sorted(found["units_reported"]) == ["machinery", "shanghai"]

    await eventually(both_arrived, "both forwarded tables in caq's read model")
    rolled = ok(await client.get(base, headers=await national.headers()), 200, "national")

    caq_xlsx = await client.get(f"{base}.xlsx", headers=await national.headers())
    assert rolled["figures_in_10k"] and len(rolled["deductions"]) == 1

    client.headers.pop("authorization", None)
    await page_session(client, "caq", Role.SECRETARIAT)
    url = f"/caq/statistics/campaigns/{opened['id']}/roll-up"
    page = await client.get(url)
    assert page.status_code == 200, page.text
    for name, value in rolled["figures_in_10k"].items():
        row = re.search(rf'<tr data-figure="{name}">(.*?)</tr>', page.text, re.S)
        assert row is not None and f">{Decimal(value)}</td>" in row[1], name
    deductions = re.search(r'id="deductions-table">(.*?)</table>', page.text, re.S)
    assert deductions is not None
    [deduction] = rolled["deductions"]
    row = re.search(rf'<tr data-credit-code="{shared}">(.*?)</tr>', deductions[1], re.S)
    assert row is not None
    assert "上海电气集团" in row[1] and "上海市质量协会" in row[1]
    assert "中国机械工业质量管理协会" in row[1]
    assert "职工总数（人） 3000" in row[1]
    assert deduction["source"] == "association" and "该协会分项填报的数据" in row[1]
    missing = re.findall(r'<li data-unit="(\w+)">', page.text)
    assert missing == rolled["units_missing"] and missing
    export = await client.get(f"{url}.xlsx")
    ours, theirs = (
        {s.title: list(s.iter_rows(values_only=True)) for s in load_workbook(io.BytesIO(r.content))}
        for r in (export, caq_xlsx)
    )
    assert ours == theirs and "扣除行业直属企业" in ours
