"""What every page must pass in the browser: axe-core with no serious or critical violation, and
no horizontal scrolling at 390 px wide."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Browser, Page, expect

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}
_axe = Axe()


def serious_violations(page: Page) -> list[dict[str, Any]]:
    results = _axe.run(page)
    violations: list[dict[str, Any]] = results.response["violations"]
    return [v for v in violations if v.get("impact") in ("serious", "critical")]


def assert_accessible(page: Page) -> None:
    found = serious_violations(page)
    assert not found, [(v["id"], v["impact"], [n["target"] for n in v["nodes"]][:3]) for v in found]


def assert_fits_a_phone(browser: Browser, url: str, shots: Path | None = None) -> None:
    """No horizontal scrolling at 390 px, and axe-clean there too; with `shots`, full-page screenshots at 390 and 1280 px
    are written there (QCFLOW_SCREENSHOTS, to look at the pages)."""
    for viewport in (PHONE, DESKTOP) if shots else (PHONE,):
        context = browser.new_context(viewport=viewport, locale="zh-CN")
        try:
            page = context.new_page()
            page.goto(url)
            if viewport is PHONE:
                width = page.evaluate("document.documentElement.scrollWidth")
                assert width <= PHONE["width"], f"{url}: {width} px wide at {PHONE['width']} px"
                assert_accessible(page)
            if shots:
                name = re.sub(r"[^a-z0-9]+", "-", urlsplit(url).path.lower()).strip("-")
                page.screenshot(
                    path=str(shots / f"{name or 'home'}-{viewport['width']}.png"), full_page=True
                )
        finally:
            context.close()


def looks_right(page: Page, name: str, shots: Path | None = None) -> None:
    """The page as it stands: axe-clean at 1280 px and at 390 px, where nothing scrolls
    sideways; with `shots`, screenshots of both there (QCFLOW_SCREENSHOTS, to look at)."""
    assert_accessible(page)
    if shots:
        page.screenshot(path=str(shots / f"{name}-1280.png"), full_page=True)
    page.set_viewport_size(PHONE)
    try:
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= PHONE["width"], f"{page.url}: {width} px wide at 390 px"
        assert_accessible(page)
        if shots:
            page.screenshot(path=str(shots / f"{name}-390.png"), full_page=True)
    finally:
        page.set_viewport_size(DESKTOP)


def sign_in(page: Page, url: str, login: str, password: str, tenant: str = "saq") -> None:
    """Through the sign-in page, as a person does; back on the tenant's home."""
    page.goto(f"{url}/{tenant}/sign-in")
    page.get_by_label("登录名（邮箱）").fill(login)
    page.get_by_label("密码", exact=True).fill(password)
    page.get_by_role("button", name="登录").click()
    expect(page.locator(".who .person")).to_be_visible()
