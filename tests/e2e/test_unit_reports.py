"""The recommending unit's reports in Chromium, on SQLite and PostgreSQL: Pudong fills its 统计表
(the rates shown as typed are the API's), pastes its enterprises' credit codes (a bad one flagged
on its line, then fixed), writes the 工作总结 (the count shown is the domain's), saves both and
downloads the .xlsx, whose cells the test reads back; every page axe-clean and usable at 390 px."""

from __future__ import annotations

import io
import os
import uuid
from pathlib import Path

import httpx
import pytest
from openpyxl import load_workbook
from playwright.sync_api import Browser, Page, expect

from aggregates.account import AccountStatus, Grant
from aggregates.actor import Actor, Role
from aggregates.statistics_table import rate
from aggregates.work_summary import counted_characters
from api.portal.unit_report_forms import compose
from tests.e2e.conftest import Site
from tests.e2e.pages import assert_accessible
from tests.support import new_password

pytestmark = pytest.mark.e2e

SAQ_2024_QC = "2024年上海市质量管理小组活动"
SHOTS = Path(os.environ["QCFLOW_SCREENSHOTS"]) if os.environ.get("QCFLOW_SCREENSHOTS") else None
GOOD, SAIC = "91100000100003962T", "91310000132260250X"
BAD = "91310000132260250Y"
FIGURES = {
    "职工总数": "12000",
    "历年来累计已登记注册 QC 小组数": "3500",
    "本年度已登记注册 QC 小组数": "420",
    "本年度注册参加 QC 小组人数": "3150",
    "本年度坚持活动的 QC 小组数": "400",
    "历年来累计 QC 小组创可计算的经济效益": "86500.5",
    "本年度 QC 小组创可计算的经济效益": "4210.75",
    "本年度取得成果的 QC 小组数": "315",
    "本年度企业对 QC 小组活动经费投入（培训、交流、书籍等费用）": "120",
    "本年度企业对 QC 小组活动奖励费用": "45.5",
    "取得中国质协评委证书人数": "18",
}
SECTIONS = (
    "本区全年组织质量管理小组活动，覆盖企业与班组。" * 60,
    "坚持标准宣贯，开展成果诊断与发表交流。" * 60,
    "部分企业参与面不够广，下一步将加强培训与辅导。" * 40,
)


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
    """Each page at 390 px, signed in (the browser's cookies); screenshots at 390 and 1280 px."""
    for width, height in ((390, 844), (1280, 900)):
        context = browser.new_context(viewport={"width": width, "height": height}, locale="zh-CN")
        try:
            context.add_cookies(page.context.cookies())
            for url in urls:
                tab = context.new_page()
                tab.goto(url)
                if width == 390:
                    wide = tab.evaluate("document.documentElement.scrollWidth")
                    assert wide <= 390, f"{url}: {wide} px wide at 390 px"
                    assert_accessible(tab)
                if SHOTS:
                    name = url.rstrip("/").rsplit("/", 1)[-1]
                    tab.screenshot(path=str(SHOTS / f"unit-{name}-{width}.png"), full_page=True)
                tab.close()
        finally:
            context.close()


def sign_in_and_open_the_table(site: Site, page: Page, login: str, password: str) -> None:
    page.goto(f"{site.url}/saq/sign-in")
    page.get_by_label("登录名（邮箱）").fill(login)
    page.get_by_label("密码").fill(password)
    page.get_by_role("button", name="登录").click()
    page.get_by_role("link", name="统计表与工作总结").first.click()
    assert_accessible(page)
    page.locator("tr", has_text=SAQ_2024_QC).get_by_role("link", name="填写统计表").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("统计表")


def fill_the_table(page: Page) -> None:
    """The counts typed (the rates shown as typed), the codes pasted (a bad one flagged on its
    line), refused with the input kept, fixed and saved."""
    employees, participants = (
        page.get_by_label("职工总数", exact=True),
        page.get_by_label("本年度注册参加 QC 小组人数", exact=True),
    )
    for whole, part in ((32, 1), (3, 2), (0, 5)):  # a half rounds up; two thirds; no whole
        employees.fill(str(whole))
        participants.fill(str(part))
        shown = rate(part, whole)
        expect(page.locator("#rate-coverage")).to_have_text("—" if shown is None else str(shown))
    for label, value in FIGURES.items():
        page.get_by_label(label, exact=True).fill(value)
    expect(page.locator("#rate-coverage")).to_have_text("26.25")  # as typed, before saving
    expect(page.locator("#rate-result_rate")).to_have_text("75.00")
    page.get_by_label("发表评审").check()
    page.get_by_label("本期举办了发表会").check()
    page.get_by_label("发表会时间").fill("2024-04-18")
    page.get_by_label("发表会地点").fill("浦东新区质量大厦")
    page.locator("#f-enterprises").fill(f"{GOOD}\n{BAD}\n")
    expect(page.locator('li[data-line="2"]')).to_contain_text("校验码应为 X")
    expect(page.locator("#enterprise-count")).to_have_text("2")
    assert_accessible(page)
    page.get_by_role("button", name="保存统计表").click()
    expect(page.locator('li[data-line="2"]')).to_contain_text(BAD)  # refused, kept
    expect(page.get_by_label("职工总数", exact=True)).to_have_value("12000")
    if SHOTS:
        page.screenshot(path=str(SHOTS / "unit-statistics-refused-1280.png"), full_page=True)
    page.locator("#f-enterprises").fill(f"{GOOD}\n{SAIC}")
    expect(page.locator(".enterprise-check .ok")).to_be_visible()
    page.get_by_role("button", name="保存统计表").click()
    expect(page.locator("p.notice")).to_have_text("统计表已保存。")


def rates_match_the_api(site: Site, page: Page, login: str, password: str) -> None:
    campaign_id = page.url.split("/campaigns/")[1].split("/")[0]
    api = f"{site.url}/api/v1/tenants/saq"
    with httpx.Client(timeout=30) as http:
        session = http.post(f"{api}/session", json={"login": login, "password": password})
        headers = {"Authorization": f"Bearer {session.json()['token']}"}
        read = http.get(f"{api}/campaigns/{campaign_id}/units/pudong/statistics", headers=headers)
    rates = read.json()["rates"]
    for name in ("coverage", "result_rate", "activity_rate"):
        expect(page.locator(f"#rate-{name}")).to_have_text(rates[name])


def the_xlsx_reads_back(page: Page) -> None:
    with page.expect_download() as downloading:
        page.get_by_role("link", name="下载统计表（.xlsx）").click()
    book = load_workbook(io.BytesIO(Path(downloading.value.path()).read_bytes()))
    cells = list(book["统计表"].iter_rows(values_only=True))
    employees = next(r for r in cells if "职工总数" in r)
    assert 12000 in employees or "12000" in employees
    listed = [r[1] for r in book["企业清单"].iter_rows(min_row=2, values_only=True)]
    assert listed == [GOOD, SAIC]


def write_the_summary(page: Page) -> None:
    page.get_by_role("link", name="工作总结").last.click()
    expect(page.get_by_role("heading", level=1)).to_have_text("工作总结")
    for i, text in enumerate(SECTIONS):
        page.locator(f"#f-section{i}").fill(text)
    expected = counted_characters(compose(list(SECTIONS)))
    expect(page.locator("#summary-count")).to_have_text(f"已写 {expected} 字（至少 3000 字）")
    assert_accessible(page)
    page.get_by_role("button", name="保存工作总结").click()
    expect(page.locator("p.notice")).to_have_text("工作总结已保存。")


def test_a_unit_fills_its_statistics_table_and_work_summary_and_downloads_the_xlsx(
    site: Site, page: Page, playwright_browser: Browser
) -> None:
    login, password = unit_account(site)
    sign_in_and_open_the_table(site, page, login, password)
    statistics_url = page.url
    fill_the_table(page)
    rates_match_the_api(site, page, login, password)
    the_xlsx_reads_back(page)
    write_the_summary(page)
    summary_url = page.url.split("?")[0]
    pages = [f"{site.url}/saq/unit-reports", statistics_url.split("?")[0], summary_url]
    on_a_phone(page, playwright_browser, pages)
