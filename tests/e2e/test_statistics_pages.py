"""Statistics in Chromium, on SQLite and PostgreSQL: the secretariat opens saq's statistics from
the navigation, the year-over-year overview, then the 2023 campaign by recommending unit; every
figure on the page is the JSON API's, the .xlsx downloaded from the page (read back) has the same
figures, the chart beside the table draws one mark per group, and the pages are axe-clean and fit
a phone."""

from __future__ import annotations

import io
import os
from pathlib import Path
from typing import Any

import httpx
import pytest
from openpyxl import load_workbook
from playwright.sync_api import Page, expect

from tests.e2e.conftest import Site
from tests.e2e.pages import looks_right, sign_in

pytestmark = pytest.mark.e2e

SHOTS = Path(os.environ["QCFLOW_SCREENSHOTS"]) if os.environ.get("QCFLOW_SCREENSHOTS") else None
STAGES = ("submissions", "recommended", "formal_passed", "graded")


def api_figures(site: Site, by: str) -> dict[str, Any]:
    """The campaign's figures as the JSON API answers them, to a bearer session of the same
    secretariat account."""
    with httpx.Client(base_url=site.url) as client:
        session = client.post(
            "/api/v1/tenants/saq/session", json={"login": site.login, "password": site.password}
        )
        assert session.status_code == 201, session.text
        found = client.get(
            f"/api/v1/tenants/saq/campaigns/{site.published.campaign_id}/statistics",
            params={"by": by},
            headers={"Authorization": f"Bearer {session.json()['token']}"},
        )
        assert found.status_code == 200, found.text
        return found.json()  # type: ignore[no-any-return]


def test_the_secretariat_reads_a_campaigns_figures_charts_and_export(
    page: Page, site: Site
) -> None:
    sign_in(page, site.url, site.login, site.password)
    page.get_by_role("link", name="统计", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("统计")
    overview = page.locator(f'tr[data-campaign="{site.published.campaign_id}"]')
    expect(overview).to_be_visible()
    looks_right(page, "statistics-overview", SHOTS)

    overview.get_by_role("link").click()
    page.get_by_label("分组").select_option("recommending_unit")
    page.get_by_role("button", name="查看", exact=True).click()
    assert "by=recommending_unit" in page.url  # the view is its URL
    expect(page.get_by_role("heading", level=2, name="按推荐单位")).to_be_visible()

    found = api_figures(site, "recommending_unit")
    totals = found["totals"]["figures"]
    for stage in STAGES:
        expect(page.locator(f'#totals-table tr[data-stage="{stage}"] td.stat-count')).to_have_text(
            str(totals[stage])
        )
    rows = page.locator("#groups-table tbody tr")
    expect(rows).to_have_count(len(found["groups"]))
    for group in found["groups"]:
        row = page.locator(f'#groups-table tr[data-group="{group["key"]}"]')
        expect(row.locator("th")).to_have_text(group["label"])
        for stage in STAGES:
            expect(row.locator(f'td[data-stage="{stage}"]')).to_have_text(
                str(group["figures"][stage])
            )
        rate = group["figures"]["rates"]["grading_rate"]
        rates = page.locator(f'#group-rates-table tr[data-group-rates="{group["key"]}"]')
        expect(rates.locator('td[data-rate="grading_rate"]')).to_have_text(
            "—" if rate is None else f"{rate}%"
        )

    chart = page.locator('figure[data-chart="graded"]')
    expect(chart.locator("svg rect.mark")).to_have_count(len(found["groups"]))
    expect(chart.locator("svg title").first).to_have_text("各组获评数")
    expect(page.locator('figure[data-chart="funnel"] svg rect.mark')).to_have_count(
        page.locator("#totals-table tbody tr").count() - 1  # 撤回数 is no stage of the funnel
    )
    looks_right(page, "statistics-campaign", SHOTS)

    with page.expect_download() as downloaded:
        page.get_by_role("link", name="活动统计（Excel，按推荐单位，全部记录）").click()
    book = load_workbook(io.BytesIO(Path(downloaded.value.path()).read_bytes()))
    sheet = [list(r) for r in book.active.iter_rows(values_only=True)]
    names = {g["label"]: g for g in found["groups"]}
    header = next(r for r in sheet if "申报数" in r)
    for line in sheet:
        if line[0] in names:
            figures = names.pop(line[0])["figures"]
            assert line[header.index("申报数")] == figures["submissions"]
            assert line[header.index("获评数")] == figures["graded"]
    assert not names, f"groups missing from the .xlsx: {list(names)}"

    page.get_by_role("link", name="推荐单位统计表汇总").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("统计表汇总")
    expect(page.locator("ul.missing li").first).to_be_visible()
    looks_right(page, "statistics-rollup", SHOTS)
