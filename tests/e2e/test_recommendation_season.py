"""A recommending season in Chromium, on SQLite and PostgreSQL (issue 19, "Done when"): the
secretariat opens 2025's QC campaign from last year's and invites two recommending units, who
accept in browsers of their own; results are filed (through the API); 浦东新区 ranks four of them
by dragging and by the keyboard, scores and evaluates them (the 301st character refused beside
the field), adds its roster, fills its 统计表 (the rates shown are the API's) and 工作总结, files
and downloads the 推荐表 .xlsx, whose cells are read back. The secretariat watches the desk's
counts move, returns the form with a reason and grants one more place; the unit sees the reason,
fixes its form, recommends one more and files again; 徐汇区, late, is reminded by mail (read from
the outbox). Every page axe-clean and usable at 390 px.

The steps other journeys take too are tests/e2e/pages.py's."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from aggregates.campaign import Campaign, Programme
from api.platform.mail import delivered_mail
from tests.api.review_world import credit_code
from tests.e2e.conftest import Site
from tests.e2e.pages import (
    DESKTOP,
    TOPICS,
    accepts,
    adds_the_roster,
    declares_and_files,
    downloaded_form,
    file_results,
    fill_the_table,
    invites,
    looks_right,
    navigate,
    rates_match_the_api,
    recommend,
    reorders,
    sign_in,
    write_the_summary,
)
from tests.support import beijing

pytestmark = pytest.mark.e2e

SHOTS = Path(os.environ["QCFLOW_SCREENSHOTS"]) if os.environ.get("QCFLOW_SCREENSHOTS") else None
TITLE = "2025年上海市质量管理小组活动"
QC_2025 = str(Campaign.create_id("saq", Programme.QC_GROUP, 2025))
PUDONG, XUHUI = "pudong@season.example.cn", "xuhui@season.example.cn"
REASON = "第2名成果评价过于简略，请补充后重新报送。"
REMINDER = "推荐表、统计表、工作总结"


def shot(page: Page, name: str) -> None:
    looks_right(page, f"season-{name}", SHOTS)


@pytest.fixture
def unit_page(playwright_browser: Browser) -> Iterator[Page]:
    """The recommending unit's own browser."""
    context = playwright_browser.new_context(viewport=DESKTOP, locale="zh-CN")
    try:
        yield context.new_page()
    finally:
        context.close()


def opens_2025_from_last_year(page: Page) -> None:
    """开设活动 from last year's campaign, the unit quota set to four; previewed and opened."""
    navigate(page, "活动", "开设活动")
    qc = page.get_by_role("region", name="质量管理小组活动")
    expect(qc.get_by_label("年度", exact=True)).to_have_value("2025")
    shot(page, "setup-start")
    qc.get_by_role("button", name="开始填写").click()
    expect(page.get_by_label("活动名称")).to_have_value(TITLE)
    page.get_by_label("每个推荐单位推荐总名额").fill("4")
    shot(page, "setup-form")
    page.get_by_role("button", name="预览").click()
    expect(page.get_by_role("heading", name="预览：将开设的活动")).to_be_visible()
    shot(page, "setup-preview")
    page.get_by_role("button", name="开设活动").click()
    expect(page.get_by_text("活动已开设。")).to_be_visible()
    shot(page, "setup-opened")


def invites_two_units(page: Page, browser: Browser, url: str) -> str:
    """Two recommending units invited; each accepts in a browser of its own. 浦东新区's
    password."""
    navigate(page, "账号", "账号与邀请")
    pudong = invites(page, PUDONG, "浦东新区质协", "浦东新区")
    xuhui = invites(page, XUHUI, "徐汇区质协", "徐汇区")
    shot(page, "invited")
    password = accepts(browser, url, pudong)
    accepts(browser, url, xuhui)
    page.reload()
    for login in (PUDONG, XUHUI):
        expect(page.locator(f'tr[data-login="{login}"] .state')).to_have_text("已启用")
    return password


def desk(page: Page, url: str) -> None:
    page.goto(f"{url}/saq/secretariat/campaigns")
    page.locator("article.desk-card", has_text=TITLE).get_by_role("link", name="打开工作台").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(TITLE)


def count(page: Page, unit: str, stage: str) -> str:
    return page.locator(f'tr[data-unit="{unit}"] td[data-stage="{stage}"]').inner_text().strip()


def ranks_scores_and_files(page: Page, titles: dict[str, str]) -> None:
    """推荐通道 → the results filed under the unit → the 推荐表: roster, four recommended (the
    first evaluation refused at 301 characters), ranked by dragging and by the keyboard, the
    quota full."""
    ids = list(titles)
    page.get_by_role("link", name="推荐通道").click()
    shot(page, "unit-home")
    line = page.locator(".campaign-line", has_text=TITLE)
    line.get_by_role("link", name="向本单位申报的成果").click()
    expect(page.locator("table.unit-results tbody tr")).to_have_count(5)
    shot(page, "unit-results")
    page.get_by_role("link", name=titles[ids[0]]).click()
    expect(page.get_by_role("link", name="report.pdf")).to_be_visible()
    shot(page, "unit-result")
    page.get_by_role("link", name="去推荐表").click()
    expect(page.locator(".quotas")).to_contain_text("本单位已推荐 0/4")
    shot(page, "form-empty")
    adds_the_roster(page)
    for n, submission_id in enumerate(ids[:4]):
        recommend(page, n, submission_id, SHOTS)
    expect(page.locator(".quotas")).to_contain_text("本单位已推荐 4/4")
    reorders(page, ids[:4], titles)
    shot(page, "form-ranked")


def reads_the_xlsx_back(page: Page, path: Path) -> None:
    rows = downloaded_form(page, path)
    assert rows[0][0] == f"{TITLE}成果推荐表"
    assert rows[1][0] == "推荐单位（单位公章）：浦东新区"
    header = rows.index(("排序", "企业名称", "小组名称", "课题类型", "打分", "评委", "编号"))
    entries = rows[header + 1 : header + 9 : 2]
    assert [r[0] for r in entries] == [1, 2, 3, 4]
    assert [r[4] for r in entries] == [83, 80, 82, 81]
    assert {r[5] for r in entries} == {"周敏"}
    assert rows[header + 4][1] == "评" * 300  # the second's evaluation, cut to 300
    assert any(r[0] == "填表人：陈静" for r in rows)


def reports(page: Page, url: str, password: str) -> None:
    """The 统计表 (rates as typed, the API's once saved) and the 工作总结."""
    page.get_by_role("link", name="统计表与工作总结").first.click()
    shot(page, "unit-reports")
    page.locator("tr", has_text=TITLE).get_by_role("link", name="填写统计表").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("统计表")
    fill_the_table(page, SHOTS)
    rates_match_the_api(url, page, PUDONG, password)
    shot(page, "statistics")
    write_the_summary(page)
    shot(page, "work-summary")


def returns_and_grants(page: Page, url: str) -> None:
    """推荐决定: the filed form returned with a reason (refused without), one more place."""
    page.goto(f"{url}/saq/decisions/")
    page.get_by_role("link", name=TITLE).click()
    expect(page.locator('tr[data-unit="pudong"]')).to_contain_text("已报送")
    shot(page, "decision-units")
    page.locator('tr[data-unit="pudong"] a').click()
    expect(page.locator("table.entries tbody tr")).to_have_count(4)
    page.get_by_role("button", name="退回", exact=True).click()
    expect(page.locator("#e-return-reason")).to_have_text("请说明退回原因")
    shot(page, "decision-refused")
    page.get_by_label("退回原因（推荐单位可见）").fill(REASON)
    page.get_by_role("button", name="退回", exact=True).click()
    expect(page.locator(".facts .state")).to_have_text("已退回")
    page.get_by_label("增加名额（个）").fill("1")
    page.get_by_label("增加名额的理由").fill("本区推进成效显著")
    page.get_by_role("button", name="增加名额").click()
    expect(page.locator(".facts .quota")).to_have_text("4 / 5（含增加名额 1）")
    shot(page, "decision-decided")


def fixes_and_refiles(page: Page, titles: dict[str, str]) -> None:
    """The reason shown; the second's evaluation rewritten, a fifth recommended, filed again."""
    ids = list(titles)
    page.reload()
    expect(page.locator(".notice.returned")).to_contain_text(f"退回原因：{REASON}")
    expect(page.locator(".quotas")).to_contain_text("本单位已推荐 4/5")
    shot(page, "form-returned")
    second = page.locator(f"#entry-{ids[0]} form.entry-form")
    second.get_by_label("成果评价（优势/不足之处，限 300 字）").fill("问题分析透彻，对策有效。")
    second.get_by_role("button", name="保存修改").click()
    expect(page.locator(f"#entry-{ids[0]} textarea")).to_have_value("问题分析透彻，对策有效。")
    recommend(page, 4, ids[4])
    expect(page.locator(".quotas")).to_contain_text("本单位已推荐 5/5")
    page.get_by_role("button", name="报送推荐表").click()
    expect(page.locator(".notice.filed")).to_contain_text("由 浦东新区质协 报送")
    expect(page.locator("table.seed-form tbody .score")).to_have_count(5)
    shot(page, "form-refiled")


def test_a_recommendation_season_from_opening_to_the_reminder(
    site: Site, page: Page, unit_page: Page, playwright_browser: Browser, tmp_path: Path
) -> None:
    url = site.url
    site.clock.now = beijing(2025, 1, 20, 10, 0)  # 2025's campaign not yet open
    sign_in(page, url, site.login, site.password)
    opens_2025_from_last_year(page)
    password = invites_two_units(page, playwright_browser, url)

    site.clock.now = beijing(2025, 4, 20, 10, 0)  # its submission window (sessions ended)
    sign_in(page, url, site.login, site.password)
    desk(page, url)
    expect(page.locator('tr[data-late="pudong"]')).to_contain_text("未报送")
    assert count(page, "", "submissions") == "0"
    shot(page, "desk-before")

    titles = file_results(site, QC_2025)
    fifth = credit_code(9001)
    titles |= file_results(site, QC_2025, {fifth: "上海浦江精密机械有限公司"}, TOPICS[:1])
    assert len(titles) == 5
    page.reload()
    expect(page.locator('tr[data-unit="浦东新区"] td[data-stage="submissions"]')).to_have_text("5")
    assert count(page, "", "submissions") == "5"

    sign_in(unit_page, url, PUDONG, password)
    ranks_scores_and_files(unit_page, titles)
    declares_and_files(unit_page, "陈静", "浦东新区质协")
    shot(unit_page, "form-filed")
    reads_the_xlsx_back(unit_page, tmp_path / "推荐表.xlsx")
    form_url = unit_page.url.split("?")[0]
    reports(unit_page, url, password)

    page.reload()
    expect(page.locator('tr[data-unit="浦东新区"] td[data-stage="recommended"]')).to_have_text("4")
    expect(page.locator('tr[data-late="pudong"]')).to_have_count(0)
    expect(page.locator('tr[data-late="xuhui"]')).to_contain_text("未报送")
    shot(page, "desk-after")

    returns_and_grants(page, url)
    unit_page.goto(form_url)
    fixes_and_refiles(unit_page, titles)

    desk(page, url)
    expect(page.locator('tr[data-unit="浦东新区"] td[data-stage="recommended"]')).to_have_text("5")
    late = page.locator("tr[data-late]").count()
    page.get_by_role("button", name=f"发送邮件提醒以上 {late} 个单位").click()
    expect(page.get_by_role("status")).to_contain_text(f"已向 {late} 个单位")
    shot(page, "desk-reminded")
    site.app.state.mail.send_pending()

    def reminders(login: str) -> list[str]:
        mails = delivered_mail(site.app.state.settings, "saq", login)
        return [str(m.get_content()) for m in mails if REMINDER in str(m["Subject"])]

    (mail,) = reminders(XUHUI)
    assert TITLE in mail and "成果推荐截止时间：2025年6月1日 00:00" in mail
    assert reminders(PUDONG) == []  # it filed all three
