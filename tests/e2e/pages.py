"""What every page must pass in the browser: axe-core with no serious or critical violation, and
no horizontal scrolling at 390 px wide."""

from __future__ import annotations

from typing import Any

from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Browser, Page

PHONE = {"width": 390, "height": 844}
_axe = Axe()


def serious_violations(page: Page) -> list[dict[str, Any]]:
    results = _axe.run(page)
    violations: list[dict[str, Any]] = results.response["violations"]
    return [v for v in violations if v.get("impact") in ("serious", "critical")]


def assert_accessible(page: Page) -> None:
    found = serious_violations(page)
    assert not found, [(v["id"], v["impact"], [n["target"] for n in v["nodes"]][:3]) for v in found]


def assert_fits_a_phone(browser: Browser, url: str) -> None:
    context = browser.new_context(viewport=PHONE, locale="zh-CN")
    try:
        page = context.new_page()
        page.goto(url)
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= PHONE["width"], f"{url}: {width} px wide at {PHONE['width']} px"
    finally:
        context.close()
