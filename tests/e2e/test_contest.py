"""The live presentation contest (发表赛) in Chromium: the secretariat calls the first presenter,
four judges score on phone-sized pages while a second browser context shows the big screen mark
each one “已评” without a reload, the secretariat releases the scores (the big screen shows the
highest and lowest dropped and the trimmed mean) and calls the next presenter. Every page
axe-clean; the judge's page and the control page usable at 390 px."""

from __future__ import annotations

import os
import re
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from uuid import UUID

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect

from aggregates.actor import Role
from tests.api.contest_world import CONTEST, criteria_for, prepare_contest
from tests.e2e.conftest import Site
from tests.e2e.pages import PHONE, assert_accessible, looks_right, navigate
from tests.e2e.test_formal_review import (
    account,
    bearer,
    ok,
    sign_in,
    signed_in,
    six_recommended_results,
)

pytestmark = pytest.mark.e2e
SHOTS = Path(os.environ["QCFLOW_SCREENSHOTS"]) if os.environ.get("QCFLOW_SCREENSHOTS") else None
JUDGES = [f"SDAQ-FB-{i:04d}" for i in range(1, 5)]
MATERIAL = "SDAQ-FB-0009"
TOTALS = [88, 93, 71, 80]


def enrol(site: Site, numbers: list[str]) -> None:
    api = f"{site.url}/api/v1/tenants/saq"
    with httpx.Client(timeout=60) as http:
        secretariat = bearer(http, api, site, Role.SECRETARIAT, None)
        for i, number in enumerate(numbers):
            body = {
                "name": f"发表赛评委{i + 1}",
                "work_unit": f"质量研究院第{i + 1}研究室",
                "work_unit_credit_code": None,
                "mobile": "13900000000",
                "certificate": {
                    "kind": "QC小组评审员",
                    "number": number,
                    "issuing_body": "上海市质量协会",
                    "level": "评审员",
                    "valid_until": "2027-12-31",
                },
            }
            ok(http.post(f"{api}/experts", json=body, headers=secretariat), 201)


def judge_scores(
    browser: Browser, site: Site, base: str, judge: str, total: int, title: str, look: bool
) -> None:
    """A judge on a phone-sized page: the presentation on stage, the sheet by its rubric with the
    total as typed, filed; only their own sheet shown."""
    phone = browser.new_context(viewport=PHONE, locale="zh-CN")
    try:
        tab = phone.new_page()
        signed_in(tab, site.url, *account(site, Role.REVIEWER, judge))
        tab.goto(f"{base}/judge")
        expect(tab.locator("#h-sheet")).to_have_text(title)
        for name, value in criteria_for(total).items():
            tab.get_by_label(re.compile(f"^{name}")).fill(value)
        expect(tab.locator("output[data-total]")).to_have_text(str(total))
        if look:  # the page as a judge holds it: 390 px wide, axe-clean there
            width = tab.evaluate("document.documentElement.scrollWidth")
            assert width <= PHONE["width"], width
            assert_accessible(tab)
            if SHOTS:
                tab.screenshot(path=str(SHOTS / "contest-judge-390.png"), full_page=True)
        tab.get_by_role("button", name="提交评分表").click()
        expect(tab.locator("p[role=status]")).to_have_text("评分表已提交。")
        expect(tab.locator(".contest-mine")).to_contain_text(f"已评：合计 {total}.00 分")
        for other in TOTALS:  # never another judge's sheet on this page
            if other != total:
                assert f"合计 {other}" not in tab.content()
    finally:
        phone.close()


def no_reload(page: Page) -> None:
    """The screen was not reloaded since it was marked (a reload would clear the mark)."""
    assert page.evaluate("document.documentElement.dataset.mark") == "first-load"


def test_four_judges_score_while_the_big_screen_updates_without_a_reload(
    site: Site, page: Page, playwright_browser: Browser
) -> None:
    world = six_recommended_results(site)
    enrol(site, [*JUDGES, MATERIAL])
    ledger = site.app.state.platform.tenants["saq"].ledger
    campaign_id = UUID(world["campaign"])
    contest = prepare_contest(
        ledger, site.clock, campaign_id, [UUID(r["id"]) for r in world["results"]], MATERIAL, JUDGES
    )
    base = f"{site.url}/saq/contest/{campaign_id}/{CONTEST}"

    # The secretariat's control page: the running order, the first presenter called.
    sign_in(page, site)
    navigate(page, "评审", "发表赛")
    page.get_by_role("link", name="发表赛控制台").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("发表赛控制台")
    expect(page.locator("table.contest-order tbody tr")).to_have_count(6)
    page.get_by_label("每项发表时间（分钟）").fill("12")
    page.get_by_role("button", name="请第一位上台").click()
    expect(page.locator("p[role=status]")).to_have_text("已请下一位上台。")
    expect(page.locator(".contest-clock time").first).to_have_text(re.compile(r"^1[12]:\d\d$"))
    looks_right(page, "contest-control", SHOTS)
    control = page.url
    page.goto("about:blank")  # not polling every 2 s while the judges score: it is not watched
    first = ledger.get_round(campaign_id, CONTEST).entrants[contest.order[0]]

    # The big screen in a second browser context (the secretariat's session), marked so a reload
    # would show.
    screen_context = playwright_browser.new_context(
        viewport={"width": 1280, "height": 900}, locale="zh-CN"
    )
    screen_context.add_cookies(page.context.cookies())
    screen = screen_context.new_page()
    screen.goto(f"{base}/screen")
    expect(screen.locator(".contest-title")).to_contain_text(first["title"])
    screen.evaluate("document.documentElement.dataset.mark = 'first-load'")
    expect(screen.locator(".contest-judge .mark")).to_have_text(["未评"] * 4)
    looks_right(screen, "contest-screen", SHOTS)

    # Four judges on phone-sized pages; the screen marks each one as they file.
    for i, (judge, total) in enumerate(zip(JUDGES, TOTALS, strict=True)):
        judge_scores(playwright_browser, site, base, judge, total, first["title"], i == 0)
        expect(screen.locator(f'[data-judge="{i + 1}"] .mark')).to_have_text("已评")
        expect(screen.locator(".contest-judge.filed")).to_have_count(i + 1)
        no_reload(screen)
    expect(screen.locator(".contest-judge .total")).to_have_count(0)  # not released yet

    # Released: every total on the screen, the highest and lowest dropped, the trimmed mean.
    page.goto(control)
    page.get_by_role("button", name="公布本项得分").click()
    expect(page.locator("p[role=status]")).to_have_text("得分已公布到大屏。")
    middle = sorted(TOTALS)[1:-1]
    expected = (Decimal(sum(middle)) / len(middle)).quantize(Decimal("0.01"), ROUND_HALF_UP)
    expect(screen.locator("[data-score]")).to_have_text(str(expected))
    expect(screen.locator(".contest-judge.dropped")).to_have_count(2)
    expect(screen.locator(".contest-judge.dropped .dropped-word")).to_have_text(
        ["最高分，去掉", "最低分，去掉"]
        if TOTALS.index(max(TOTALS)) < TOTALS.index(min(TOTALS))
        else ["最低分，去掉", "最高分，去掉"]
    )
    no_reload(screen)
    looks_right(screen, "contest-screen-released", SHOTS)
    assert (
        ledger.get_round(campaign_id, CONTEST).presentation_score(first["submission_id"]).score
        == expected
    )

    # The next presenter: the screen follows, the released score stays in the running order.
    page.get_by_role("button", name="下一位").click()
    second = ledger.get_round(campaign_id, CONTEST).entrants[contest.order[1]]
    expect(screen.locator(".contest-title")).to_contain_text(second["title"])
    expect(screen.locator(".contest-judge .mark")).to_have_text(["未评"] * 4)
    expect(screen.locator("tr.contest-done td.contest-score")).to_have_text(str(expected))
    no_reload(screen)
    screen_context.close()
