"""The main navigation in Chromium, on SQLite and PostgreSQL: the secretariat's pages in groups
that open as dropdowns by mouse, by keyboard and without JavaScript, the page being read marked in
its link and group; folded into 菜单 on a phone; an applicant's and a reviewer's short rows of
plain links. axe-clean with every menu open and closed."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Locator, Page, expect

from aggregates.actor import Role
from tests.e2e.conftest import Site
from tests.e2e.pages import (
    DESKTOP,
    ENTERPRISES,
    PHONE,
    REVIEWER,
    account,
    assert_accessible,
    navigate,
)
from tests.e2e.test_formal_review import signed_in

pytestmark = pytest.mark.e2e

SHOTS = Path(os.environ["QCFLOW_SCREENSHOTS"]) if os.environ.get("QCFLOW_SCREENSHOTS") else None
TOP = ["协会首页", "活动", "评审", "推荐全国", "统计", "审计", "账号", "全部协会", "证书查验"]


def main_nav(page: Page) -> Locator:
    return page.get_by_role("navigation", name="主导航")


def group(page: Page, label: str) -> Locator:
    return (
        main_nav(page)
        .locator("li.group > details")
        .filter(has=page.locator(f'summary:text-is("{label}")'))
    )


def shot(page: Page, name: str) -> None:
    """axe-clean as it stands; a screenshot of the top of the page (QCFLOW_SCREENSHOTS)."""
    assert_accessible(page)
    if SHOTS:
        page.screenshot(path=str(SHOTS / f"nav-{name}.png"))


def fits_a_phone(page: Page) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"{page.url}: {width} px wide at 390 px"


def home(page: Page, site: Site, login: str, password: str) -> None:
    """Signed in (the navigation, not the sign-in page, is what this module checks), on the
    tenant's home page."""
    signed_in(page, site.url, login, password)
    page.goto(f"{site.url}/saq/")


def test_the_secretariat_finds_its_pages_in_groups(page: Page, site: Site) -> None:
    home(page, site, site.login, site.password)
    entries = main_nav(page).locator(".entries > li > a, .entries > li > details > summary")
    expect(entries).to_have_text(TOP)
    review = main_nav(page).get_by_role("link", name="评审轮次")
    expect(review).to_be_hidden()
    shot(page, "secretariat-1280-closed")

    group(page, "评审").locator("summary").click()  # a dropdown over the page
    expect(group(page, "评审").get_by_role("link")).to_have_text(
        ["形式审查与评审方案", "评审轮次", "发表赛", "等级认定与发布", "评审专家库"]
    )
    shot(page, "secretariat-1280-review-open")
    group(page, "活动").locator("summary").click()  # one dropdown open at a time
    expect(review).to_be_hidden()
    page.get_by_role("heading", level=1).click()  # a click elsewhere closes it
    expect(main_nav(page).get_by_role("link", name="开设活动")).to_be_hidden()

    navigate(page, "评审", "评审轮次")
    expect(page.get_by_role("heading", level=1)).to_have_text("评审轮次")
    expect(group(page, "评审").locator("summary")).to_have_attribute("aria-current", "true")
    expect(group(page, "活动").locator("summary")).not_to_have_attribute("aria-current", "true")
    group(page, "评审").locator("summary").click()
    expect(main_nav(page).get_by_role("link", name="评审轮次")).to_have_attribute(
        "aria-current", "page"
    )
    expect(main_nav(page).locator("[aria-current]")).to_have_count(2)

    # By keyboard: Enter opens the group, Tab reaches its links, Escape closes it.
    page.keyboard.press("Escape")
    summary = group(page, "账号").locator("summary")
    summary.focus()
    page.keyboard.press("Enter")
    page.keyboard.press("Tab")
    expect(main_nav(page).get_by_role("link", name="账号与邀请")).to_be_focused()
    page.keyboard.press("Escape")
    expect(summary).to_be_focused()
    expect(main_nav(page).get_by_role("link", name="账号与邀请")).to_be_hidden()


def test_on_a_phone_the_navigation_folds_into_a_menu(page: Page, site: Site) -> None:
    page.set_viewport_size(PHONE)
    signed_in(page, site.url, site.login, site.password)
    page.goto(f"{site.url}/saq/review/experts")
    menu = main_nav(page).locator("details.menu > summary")
    expect(menu).to_have_text("菜单")
    expect(main_nav(page).get_by_role("link", name="协会首页")).to_be_hidden()
    fits_a_phone(page)
    shot(page, "secretariat-390-closed")

    menu.click()
    expect(main_nav(page).get_by_role("link", name="协会首页")).to_be_visible()
    expect(group(page, "评审").locator("summary")).to_have_attribute("aria-current", "true")
    group(page, "评审").locator("summary").click()  # unfolds in place
    expect(main_nav(page).get_by_role("link", name="评审专家库")).to_have_attribute(
        "aria-current", "page"
    )
    fits_a_phone(page)
    shot(page, "secretariat-390-review-open")
    navigate(page, "账号", "账号与邀请")
    expect(page.get_by_role("heading", level=1)).to_have_text("账号与邀请")


def test_the_groups_open_without_javascript(playwright_browser: Browser, site: Site) -> None:
    context = playwright_browser.new_context(
        viewport=DESKTOP, locale="zh-CN", java_script_enabled=False
    )
    try:
        page = context.new_page()
        home(page, site, site.login, site.password)
        navigate(page, "活动", "推荐决定")
        expect(page.get_by_role("heading", level=1)).to_have_text("推荐决定")
        page.set_viewport_size(PHONE)
        navigate(page, "活动", "活动工作台")
        expect(page.get_by_role("heading", level=1)).to_have_text("活动工作台")
    finally:
        context.close()


@pytest.mark.parametrize(
    ("role", "scope", "links"),
    [
        (
            Role.APPLICANT_UNIT,
            next(iter(ENTERPRISES)),
            ["协会首页", "我的申报", "我的账号", "全部协会", "证书查验"],
        ),
        (
            Role.REVIEWER,
            REVIEWER[2],
            ["协会首页", "我的评审", "发表赛", "我的账号", "全部协会", "证书查验"],
        ),
    ],
)
def test_an_applicant_and_a_reviewer_see_a_short_row_of_links(
    page: Page, site: Site, role: Role, scope: str, links: list[str]
) -> None:
    home(page, site, *account(site, role, scope, "王芳"))
    nav = main_nav(page)
    expect(nav.locator("li.group")).to_have_count(0)
    expect(nav.get_by_role("link")).to_have_text(links)
    navigate(page, links[1])
    expect(nav.get_by_role("link", name=links[1])).to_have_attribute("aria-current", "page")
    shot(page, f"{role.value}-1280")

    page.set_viewport_size(PHONE)
    expect(nav.get_by_role("link", name=links[1])).to_be_hidden()
    fits_a_phone(page)
    shot(page, f"{role.value}-390-closed")
    nav.locator("details.menu > summary").click()
    expect(nav.get_by_role("link")).to_have_text(links)
    shot(page, f"{role.value}-390-open")


def test_a_visitor_sees_the_public_links_at_every_width(page: Page, site: Site) -> None:
    page.goto(f"{site.url}/saq/")
    nav = main_nav(page)
    expect(nav.get_by_role("link")).to_have_text(["协会首页", "全部协会", "证书查验"])
    expect(nav.get_by_role("link", name="协会首页")).to_have_attribute("aria-current", "page")
    page.set_viewport_size(PHONE)
    expect(nav.locator("details.menu")).to_have_count(0)  # three links need no menu
    expect(nav.get_by_role("link", name="证书查验")).to_be_visible()
    fits_a_phone(page)
    shot(page, "visitor-390")
