"""A recommending unit's 推荐表 in Chromium: four results filed under 浦东新区 (set up through the
API), the unit adds its roster member, scores and evaluates each (the 301st character refused
beside the field, the live count over its limit), ranks them by dragging and by the keyboard's
up button, accepts the declaration, files, sees the form read-only with who filed it, and
downloads the .xlsx whose cells the test reads back."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from aggregates.actor import Role
from aggregates.campaign import Campaign, Programme
from tests.e2e.conftest import Site
from tests.e2e.pages import (
    REVIEWER,
    account,
    adds_the_roster,
    declares_and_files,
    downloaded_form,
    file_results,
    looks_right,
    recommend,
    reorders,
)
from tests.e2e.test_formal_review import signed_in

pytestmark = pytest.mark.e2e

SHOTS = Path(os.environ["QCFLOW_SCREENSHOTS"]) if os.environ.get("QCFLOW_SCREENSHOTS") else None
QC_2024 = str(Campaign.create_id("saq", Programme.QC_GROUP, 2024))


def checked(page: Page, name: str) -> None:
    looks_right(page, f"prec-{name}", SHOTS)


def downloaded(page: Page, tmp_path: Path) -> None:
    """The .xlsx in one click, read back: the seed's layout with the ranking as filed."""
    rows = downloaded_form(page, tmp_path / "推荐表.xlsx")
    assert rows[0][0] == "2024年上海市质量管理小组活动成果推荐表"
    assert rows[1][0] == "推荐单位（单位公章）：浦东新区"
    header = rows.index(("排序", "企业名称", "小组名称", "课题类型", "打分", "评委", "编号"))
    entries = rows[header + 1 : header + 9 : 2]
    assert [r[0] for r in entries] == [1, 2, 3, 4]
    assert [r[4] for r in entries] == [83, 80, 82, 81]
    assert {r[5] for r in entries} == {"周敏"}
    assert rows[header + 4][1] == "评" * 300
    roster_at = rows.index(("序号", "姓名", "工作单位", "评委证书编号", "手机", None, None))
    assert rows[roster_at + 1][:5] == (1, *REVIEWER)
    assert any(r[0] == "填表人：陈静" for r in rows)


def browse_to_the_form(page: Page, titles: dict[str, str]) -> None:
    """推荐通道 → the results filed under the unit (filtered) → one result → its 推荐表."""
    ids = list(titles)
    page.get_by_role("link", name="推荐通道").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("推荐通道")
    checked(page, "home")
    line = page.locator(".campaign-line", has_text="2024年上海市质量管理小组活动")
    line.get_by_role("link", name="向本单位申报的成果").click()
    expect(page.locator("table.unit-results tbody tr")).to_have_count(4)
    checked(page, "results")
    page.get_by_label("课题类型").select_option("innovative")
    page.get_by_role("button", name="筛选").click()
    expect(page.locator("table.unit-results tbody tr")).to_have_count(2)
    page.get_by_role("link", name=titles[ids[1]]).click()
    expect(page.get_by_role("link", name="report.pdf")).to_be_visible()
    checked(page, "result")
    page.get_by_role("link", name="去推荐表").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("推荐表")
    checked(page, "form-empty")


def test_a_unit_ranks_scores_files_and_downloads_its_recommendation_form(
    site: Site, page: Page, tmp_path: Path
) -> None:
    titles = file_results(site, QC_2024)
    ids = list(titles)
    login, password = account(site, Role.RECOMMENDING_UNIT, "pudong", "陈静")
    signed_in(page, site.url, login, password)
    page.goto(f"{site.url}/saq/")
    expect(page.locator(".who .person")).to_have_text("陈静")

    browse_to_the_form(page, titles)
    adds_the_roster(page)
    for n, submission_id in enumerate(ids):
        recommend(page, n, submission_id, SHOTS)
    expect(page.locator(".quotas")).to_contain_text("中国工商银行股份有限公司上海市分行已推荐 2/3")
    reorders(page, ids, titles)
    checked(page, "form-ranked")

    declares_and_files(page, "陈静")
    expect(page.locator(".notice.filed")).to_contain_text("2024年4月28日")
    checked(page, "form-filed")

    downloaded(page, tmp_path)
