"""The recommending unit's reports in Chromium, on SQLite and PostgreSQL: Pudong fills its 统计表
(the rates shown as typed are the API's), pastes its enterprises' credit codes (a bad one flagged
on its line, then fixed), writes the 工作总结 (the count shown is the domain's), saves both and
downloads the .xlsx, whose cells the test reads back; every page axe-clean and usable at 390 px."""

from __future__ import annotations

import io
import os
import uuid
from pathlib import Path

import pytest
from openpyxl import load_workbook
from playwright.sync_api import Browser, Page, expect

from aggregates.account import AccountStatus, Grant
from aggregates.actor import Actor, Role
from tests.e2e.conftest import Site
from tests.e2e.pages import (
    GOOD,
    SAIC,
    assert_accessible,
    fill_the_table,
    rates_match_the_api,
    write_the_summary,
)
from tests.e2e.test_formal_review import signed_in
from tests.support import new_password

pytestmark = pytest.mark.e2e

SAQ_2024_QC = "2024年上海市质量管理小组活动"
SHOTS = Path(os.environ["QCFLOW_SCREENSHOTS"]) if os.environ.get("QCFLOW_SCREENSHOTS") else None


def unit_account(site: Site) -> tuple[str, str]:
    ledger = site.app.state.platform.tenants["saq"].ledger
    login, password = f"pudong-{uuid.uuid4().hex[:8]}@example.cn", new_password()
    ledger.register_account(
        login=login,
        name="陈静",
        password=password,
        status=AccountStatus.ACTIVE,
        grants=[Grant(Role.RECOMMENDING_UNIT, "pudong")],
        actor=Actor("test-setup", Role.OPERATOR),
    )
    return login, password


def on_a_phone(page: Page, browser: Browser, urls: list[str]) -> None:
    """Each page at 390 px, signed in (the browser's cookies); with SHOTS, screenshots at 390
    and 1280 px (the pages are loaded at 1280 px only then: nothing is checked there)."""
    for width, height in ((390, 844), (1280, 900)) if SHOTS else ((390, 844),):
        context = browser.new_context(viewport={"width": width, "height": height}, locale="zh-CN")
        try:
            context.add_cookies(page.context.cookies())
            tab = context.new_page()
            for url in urls:
                tab.goto(url)
                if width == 390:
                    wide = tab.evaluate("document.documentElement.scrollWidth")
                    assert wide <= 390, f"{url}: {wide} px wide at 390 px"
                    assert_accessible(tab)
                if SHOTS:
                    name = url.rstrip("/").rsplit("/", 1)[-1]
                    tab.screenshot(path=str(SHOTS / f"unit-{name}-{width}.png"), full_page=True)
        finally:
            context.close()


def sign_in_and_open_the_table(site: Site, page: Page, login: str, password: str) -> None:
    signed_in(page, site.url, login, password)
    page.goto(f"{site.url}/saq/")
    page.get_by_role("link", name="统计表与工作总结").first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text("统计表与工作总结")
    assert_accessible(page)
    page.locator("tr", has_text=SAQ_2024_QC).get_by_role("link", name="填写统计表").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("统计表")


def the_xlsx_reads_back(page: Page) -> None:
    with page.expect_download() as downloading:
        page.get_by_role("link", name="下载统计表（.xlsx）").click()
    book = load_workbook(io.BytesIO(Path(downloading.value.path()).read_bytes()))
    cells = list(book["统计表"].iter_rows(values_only=True))
    employees = next(r for r in cells if "职工总数" in r)
    assert 12000 in employees or "12000" in employees
    listed = [r[1] for r in book["企业清单"].iter_rows(min_row=2, values_only=True)]
    assert listed == [GOOD, SAIC]


def test_a_unit_fills_its_statistics_table_and_work_summary_and_downloads_the_xlsx(
    site: Site, page: Page, playwright_browser: Browser
) -> None:
    login, password = unit_account(site)
    sign_in_and_open_the_table(site, page, login, password)
    statistics_url = page.url
    fill_the_table(page, SHOTS)
    rates_match_the_api(site.url, page, login, password)
    the_xlsx_reads_back(page)
    write_the_summary(page)
    summary_url = page.url.split("?")[0]
    pages = [f"{site.url}/saq/unit-reports", statistics_url.split("?")[0], summary_url]
    on_a_phone(page, playwright_browser, pages)
