"""A visitor on the public site, and a user signing in and out, in Chromium."""

from __future__ import annotations

import io
import os
import re
import uuid
from pathlib import Path

import pytest
from openpyxl import load_workbook
from playwright.sync_api import Browser, Page, expect

from aggregates.campaign import Campaign, Programme
from tests.e2e.conftest import Site
from tests.e2e.pages import assert_accessible, assert_fits_a_phone

pytestmark = pytest.mark.e2e

SAQ_2024_QC = "2024年上海市质量管理小组活动"
SHOTS = Path(os.environ["QCFLOW_SCREENSHOTS"]) if os.environ.get("QCFLOW_SCREENSHOTS") else None
"""Where to write screenshots of every page at 390 and 1280 px (to look at them), if anywhere."""


def test_a_visitor_finds_the_open_campaign_reads_its_notice_and_downloads_a_form(
    site: Site, page: Page
) -> None:
    page.goto(site.url + "/")
    assert_accessible(page)
    page.get_by_role("link", name="上海市质量协会").click()
    expect(page.get_by_role("heading", name="正在进行的活动")).to_be_visible()
    campaign = page.locator("article.campaign", has_text=SAQ_2024_QC)
    expect(campaign).to_contain_text("距成果申报截止还有 2 天 3 小时")
    expect(campaign).to_contain_text("2024年5月1日 00:00")
    expect(campaign.locator("svg line.today")).to_have_count(1)
    # The line of today is painted under the phases' names (after the bars, before the names),
    # so that it never runs through one.
    painted = campaign.locator("svg").evaluate(
        "svg => [...svg.children].map(e => e.getAttribute('class') || e.tagName)"
    )
    today, names = painted.index("today"), [i for i, c in enumerate(painted) if c == "bar-label"]
    bars = [i for i, c in enumerate(painted) if c.startswith("bar ")]
    assert names and bars and max(bars) < today < min(names)
    assert_accessible(page)

    campaign.get_by_role("link", name="查看活动通知").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(SAQ_2024_QC)
    expect(page.locator("main")).to_contain_text("沪质协〔2024〕7号")
    expect(page.locator("main")).to_contain_text("上海市总工会")
    expect(page.locator("main")).to_contain_text("杨瑾")
    expect(page.locator(".countdown")).to_contain_text("距成果申报截止还有 2 天 3 小时")
    assert_accessible(page)

    with page.expect_download() as download:
        page.get_by_role("link", name=re.compile("推荐表")).click()
    sheet = load_workbook(io.BytesIO(download.value.path().read_bytes())).active
    assert sheet is not None
    assert sheet["A1"].value == f"{SAQ_2024_QC}成果推荐表"
    assert any(row[0] == "三、推荐声明" for row in sheet.iter_rows(values_only=True))

    with page.expect_download() as download:
        page.get_by_role("link", name=re.compile("报名表")).click()
    rows = list(
        load_workbook(io.BytesIO(download.value.path().read_bytes())).active.iter_rows(
            values_only=True
        )
    )
    assert rows[0][0] == f"{SAQ_2024_QC}报名表"
    assert any("集成电路" in str(cell) for row in rows for cell in row)


def test_a_visitor_switches_to_english_and_back(site: Site, page: Page) -> None:
    page.goto(site.url + "/saq/")
    page.get_by_role("link", name="English").click()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.get_by_role("heading", name="Campaigns open now")).to_be_visible()
    expect(page.locator("article.campaign").first).to_contain_text(
        "2 days 3 hours until the Submission deadline"
    )
    expect(page.locator("footer")).to_contain_text("Beijing time 28 April 2024 20:57")
    page.goto(site.url + "/")  # remembered: the cookie, not the page, holds the language
    expect(page.get_by_role("heading", level=1)).to_have_text("Quality associations")
    assert_accessible(page)
    page.get_by_role("link", name="简体中文").click()
    expect(page.locator("html")).to_have_attribute("lang", "zh-CN")
    expect(page.get_by_role("heading", level=1)).to_have_text("质量协会")


def test_a_certificate_is_verified_and_a_wrong_code_is_not(site: Site, page: Page) -> None:
    graded = site.published.graded()[0]
    page.goto(f"{site.url}/verify?code={graded['certificate_code']}")  # the link printed on it
    expect(page.locator(".valid")).to_have_text("证书有效")
    expect(page.locator("main")).to_contain_text(graded["unit_name"])
    assert_accessible(page)

    page.get_by_label("证书编号").fill("SAQ-2024-QC-23456789")
    page.get_by_role("button", name="查验").click()
    expect(page.locator(".missing")).to_contain_text("未找到编号为 SAQ-2024-QC-23456789 的证书")
    expect(page.get_by_label("证书编号")).to_have_value("SAQ-2024-QC-23456789")
    assert_accessible(page)


def test_the_published_results_are_public(site: Site, page: Page) -> None:
    page.goto(f"{site.url}/saq/campaigns/{site.published.campaign_id}/results")
    for entry in site.published.graded():
        expect(page.locator("main")).to_contain_text(entry["serial"])
    for entry in site.published.ungraded():
        expect(page.locator("main")).not_to_contain_text(entry["serial"])
    assert_accessible(page)


def test_a_user_signs_in_after_a_wrong_password_and_signs_out(site: Site, page: Page) -> None:
    page.goto(site.url + "/saq/")
    page.get_by_role("link", name="登录").click()
    page.get_by_label("登录名（邮箱）").fill(site.login)
    page.get_by_label("密码").fill("not-the-password")
    page.get_by_role("button", name="登录").click()
    expect(page.locator("#e-password")).to_have_text("登录名或密码不正确")
    expect(page.get_by_label("登录名（邮箱）")).to_have_value(site.login)
    expect(page.get_by_label("密码")).to_have_value("")  # a password is never shown again
    assert_accessible(page)

    page.get_by_label("密码").fill(site.password)
    page.get_by_role("button", name="登录").click()
    expect(page).to_have_url(site.url + "/saq/")
    expect(page.locator(".who")).to_contain_text("测试用户")
    expect(page.locator(".who .role")).to_have_text("秘书处")
    assert_accessible(page)

    page.get_by_role("button", name="退出").click()
    expect(page.locator(".who")).to_have_count(0)
    expect(page.get_by_role("link", name="登录")).to_be_visible()


def test_an_unknown_campaign_is_a_page_not_found(site: Site, page: Page) -> None:
    response = page.goto(f"{site.url}/saq/campaigns/{uuid.uuid4()}")
    assert response is not None and response.status == 404
    expect(page.get_by_role("heading", level=1)).to_have_text("页面不存在")
    response = page.goto(f"{site.url}/nowhere/")
    assert response is not None and response.status == 404
    expect(page.get_by_role("heading", level=1)).to_have_text("页面不存在")
    assert_accessible(page)


def test_every_public_page_fits_a_phone(site: Site, playwright_browser: Browser) -> None:
    campaign = site.published.campaign_id
    open_now = Campaign.create_id("saq", Programme.QC_GROUP, 2024)
    paths = (
        "/",
        "/saq/",
        f"/saq/campaigns/{open_now}",
        f"/saq/campaigns/{campaign}",
        f"/saq/campaigns/{campaign}/results",
        f"/saq/campaigns/{campaign}/public-notice",
        f"/verify?code={site.published.graded()[0]['certificate_code']}",
        "/saq/sign-in",
        f"/saq/campaigns/{uuid.uuid4()}",
    )
    assert_fits_a_phone(playwright_browser, [site.url + path for path in paths], SHOTS)
