"""Roll-ups of the reported statistics tables, on SQLite and PostgreSQL: a province's totals of its
units' tables, and the national totals of the forwarded provincial and industry tables, with an
enterprise under both Shanghai and the machinery industry association counted once and deducted
from Shanghai (扣除行业直属企业数据), in the API and in the .xlsx laid out like CAQ's form."""

from __future__ import annotations

import io
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
from tests.api.test_recommendations import SUMMARY, statistics
from tests.support import Clock, beijing

pytestmark = pytest.mark.tenants("saq", "cmiqa", "caq")

SAQ = "/api/v1/tenants/saq"
FIGURES = (
    "employees",
    "registered_all_years",
    "registered_this_year",
    "participants",
    "active_groups",
    "groups_with_results",
    "benefit_all_years_10k",
    "benefit_this_year_10k",
    "spending_10k",
    "rewards_10k",
    "certified_reviewers",
)


def table(enterprises: list[str], **figures: Any) -> dict[str, Any]:
    body = statistics(**figures)
    body["enterprises"] = enterprises
    return body


def summed(*bodies: dict[str, Any]) -> dict[str, Decimal]:
    return {n: sum((Decimal(str(b["qc"][n])) for b in bodies), Decimal(0)) for n in FIGURES}


def rate(part: Decimal, whole: Decimal) -> Decimal:
    return (part * 100 / whole).quantize(Decimal("0.01"))


def numbers(figures: dict[str, Any]) -> dict[str, Decimal]:
    return {n: Decimal(str(v)) for n, v in figures.items()}


async def test_a_province_sums_its_units_tables(client: Client, clock: Clock) -> None:
    secretariat = Secretariat(client, clock, "saq")
    clock.now = beijing(2024, 1, 15, 9, 0)
    body = campaign_body(tenant_config(client, "saq"), 2024)
    opened = ok(
        await client.post(f"{SAQ}/campaigns", json=body, headers=await secretariat.headers()),
        201,
        "open",
    )
    base = f"{SAQ}/campaigns/{opened['id']}"
    e1, e2, e3, e4 = (credit_code("saq", 2024, n) for n in range(1, 5))
    tables = {
        "huangpu": table([e1, e2], employees=5000, participants=1000),
        "xuhui": table(
            [e3],
            employees=2000,
            participants=1800,
            registered_this_year=90,
            active_groups=80,
            groups_with_results=60,
        ),
        "saic_motor": table([e2, e4], employees=30000, participants=6000),
    }
    clock.now = beijing(2024, 2, 1, 10, 0)
    for unit, unit_table in tables.items():
        headers = await sign_in(client, "saq", Role.RECOMMENDING_UNIT, unit)
        response = await client.put(
            f"{base}/units/{unit}/statistics", json=unit_table, headers=headers
        )
        ok(response, 200, f"{unit} files its table")

    async def all_read() -> bool:
        found = await client.get(f"{base}/statistics/roll-up", headers=await secretariat.headers())
        return len(ok(found, 200, "roll-up")["units_reported"]) == 3

    await eventually(all_read, "the three tables in the read model")
    rolled = ok(
        await client.get(f"{base}/statistics/roll-up", headers=await secretariat.headers()),
        200,
        "roll-up",
    )
    expected = summed(*tables.values())
    assert numbers(rolled["figures"]) == expected
    assert Decimal(rolled["rates"]["coverage"]) == rate(
        expected["participants"], expected["employees"]
    )
    assert Decimal(rolled["rates"]["result_rate"]) == rate(
        expected["groups_with_results"], expected["registered_this_year"]
    )
    assert rolled["enterprises"] == 4 and not rolled["national"]
    assert rolled["overlaps"] == [{"credit_code": e2, "units": ["huangpu", "saic_motor"]}]
    assert rolled["deductions"] == [] and rolled["figures_in_10k"] == {}
    assert "pudong" in rolled["units_missing"] and "huangpu" not in rolled["units_missing"]
    assert rolled["meeting"]["entered"] == 3 * 40

    response = await client.get(
        f"{base}/statistics/roll-up.xlsx", headers=await secretariat.headers()
    )
    assert response.status_code == 200, response.text
    book = load_workbook(io.BytesIO(response.content))
    items = {row[1]: row[3] for row in book["统计表汇总"].iter_rows(min_row=5, values_only=True)}
    assert items["企业总数（附清单）"] == 4
    assert items["职工总数"] == int(expected["employees"])
    assert items["本年度 QC 小组普及率 = 参加 QC 小组人数 / 职工总数 × 100%"] == (
        f"{rate(expected['participants'], expected['employees'])}%"
    )
    assert [r[0] for r in book["各推荐单位"].iter_rows(min_row=2, values_only=True)] == [
        "黄浦区",
        "徐汇区",
        "上海汽车集团股份有限公司",
    ]
    unit = await sign_in(client, "saq", Role.RECOMMENDING_UNIT, "huangpu")
    refused = await client.get(f"{base}/statistics/roll-up", headers=unit)
    assert refused.status_code in (403, 404), refused.text


async def test_the_national_roll_up_counts_an_enterprise_once(client: Client, clock: Clock) -> None:
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
    shanghai = table([credit_code("saq", 2024, 1), credit_code("saq", 2024, 2), shared])
    shanghai["itemised"] = [{"credit_code": shared, "name": "上海电气集团", "qc": own_share}]
    machinery = table([shared, credit_code("cmiqa", 2024, 1)], employees=50000, participants=9000)
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
    assert rolled["national"] and rolled["enterprises"] == 4  # five listed, one of them twice
    [deduction] = rolled["deductions"]
    assert (deduction["credit_code"], deduction["unit"], deduction["direct_under"]) == (
        shared,
        "shanghai",
        ["machinery"],
    )
    assert deduction["source"] == "association" and deduction["name"] == "上海电气集团"
    assert numbers(deduction["figures"]) == numbers(own_share)
    lines = {line["unit"]: line for line in rolled["units"]}
    deducted = {n: v - Decimal(str(own_share[n])) for n, v in summed(shanghai).items()}
    assert numbers(lines["shanghai"]["figures"]) == deducted
    assert (lines["shanghai"]["enterprises"], lines["shanghai"]["deducted"]) == (2, 1)
    assert numbers(lines["machinery"]["figures"]) == summed(machinery)
    totals = {n: deducted[n] + summed(machinery)[n] for n in FIGURES}
    assert numbers(rolled["figures"]) == totals
    assert Decimal(rolled["figures_in_10k"]["registered_this_year"]) == (
        totals["registered_this_year"] / 10_000
    )
    assert Decimal(rolled["rates"]["coverage"]) == rate(totals["participants"], totals["employees"])

    response = await client.get(f"{base}.xlsx", headers=await national.headers())
    assert response.status_code == 200, response.text
    book = load_workbook(io.BytesIO(response.content))
    form = list(book["统计表汇总"].iter_rows(values_only=True))
    registered = next(r for r in form if r[1] == "本年度已登记注册 QC 小组数")
    assert registered[2:4] == ("万个", float(totals["registered_this_year"] / 10_000))
    assert any("扣除行业直属企业数据：1 家" in str(r[0]) for r in form)
    [_header, row] = list(book["扣除行业直属企业"].iter_rows(values_only=True))
    assert row[:4] == (shared, "上海电气集团", "上海市质量协会", "中国机械工业质量管理协会")
