"""A round of material review in Chromium, on SQLite and PostgreSQL: the secretariat opens it
(the entrants shown first), assigns automatically (the excluded reviewers and why shown), is
refused a manual assignment for a conflict (the reason beside the field); a reviewer files their
sheets on a 390 px page with save and next (the total as typed), corrects one with a reason; the
secretariat aggregates, and the matrix page shows what the API's matrix says. Every page is
axe-clean; the reviewer's fit a phone."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any, cast
from uuid import UUID

import pytest
from playwright.sync_api import Browser, Page, expect

from aggregates.account import AccountStatus, Grant
from aggregates.actor import Actor, Role
from tenants.settings import Settings
from tests.api.conftest import sign_in as api_sign_in
from tests.api.review_world import Client, World
from tests.api.rounds_world import passed_formal_review
from tests.e2e.conftest import OverHttp, in_a_thread, served
from tests.e2e.pages import PHONE, assert_accessible, navigate
from tests.e2e.test_formal_review import signed_in
from tests.support import Clock, beijing, new_password

pytestmark = pytest.mark.e2e

SHOTS = Path(os.environ["QCFLOW_SCREENSHOTS"]) if os.environ.get("QCFLOW_SCREENSHOTS") else None
NOW = beijing(2024, 3, 20, 9, 0)


class Rounds:
    """The served app, the world built in it, and accounts to sign in with."""

    def __init__(self, url: str, app: Any, world: World, accounts: dict[str, tuple[str, str]]):
        self.url, self.app, self.world, self.accounts = url, app, world, accounts

    @property
    def ledger(self) -> Any:
        return self.app.state.platform.tenants["saq"].ledger


async def _build(client: Client, clock: Clock) -> tuple[World, dict[str, tuple[str, str]]]:
    client.headers.update(await api_sign_in(client, "saq", Role.SECRETARIAT))
    w = await passed_formal_review(client, clock)
    ledger = client.app.state.platform.tenants["saq"].ledger
    accounts = {}
    for role, scope in [
        (Role.SECRETARIAT, None),
        *((Role.REVIEWER, x.number) for x in w.experts),
    ]:
        login, password = f"{role.value}-{uuid.uuid4().hex[:8]}@example.cn", new_password()
        ledger.register_account(
            login=login,
            name="秘书处" if scope is None else w.expert(scope).name,
            password=password,
            status=AccountStatus.ACTIVE,
            grants=[Grant(role, scope)],
            actor=Actor("test-setup", Role.OPERATOR),
        )
        accounts[scope or "secretariat"] = (login, password)
    return w, accounts


@pytest.fixture(scope="module")
def rounds(database: str | None, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Rounds]:
    """The app served once: the world is built over its HTTP API (one app start, not one to
    build and another to serve)."""
    settings = Settings(
        database_url=database,
        data_dir=tmp_path_factory.mktemp("e2e-rounds") / "var",
        pg_pool_size=2,
        session_hours=24 * 365,
    )
    clock = Clock(beijing(2024, 1, 15, 9, 30))  # the campaign is built before its phases
    with served(settings, clock) as (url, app):

        async def build() -> tuple[World, dict[str, tuple[str, str]]]:
            async with OverHttp(url, app) as http:
                return await _build(cast(Client, http), clock)

        w, accounts = in_a_thread(build)
        clock.now = NOW
        yield Rounds(url, app, w, accounts)


def sign_in(page: Page, r: Rounds, who: str) -> None:
    """Signed in (the round, not the sign-in page, is what this module checks), on the tenant's
    home page."""
    signed_in(page, r.url, *r.accounts[who])
    page.goto(f"{r.url}/saq/")


def checked(page: Page, name: str) -> None:
    """axe-clean at 1280 px (the secretariat's desk pages; the reviewer's are phone_checked);
    with SHOTS, screenshots at 1280 and 390 px."""
    assert_accessible(page)
    if SHOTS:
        page.screenshot(path=str(SHOTS / f"rounds-{name}-1280.png"), full_page=True)
        page.set_viewport_size(PHONE)
        page.screenshot(path=str(SHOTS / f"rounds-{name}-390.png"), full_page=True)
        page.set_viewport_size({"width": 1280, "height": 900})


def test_a_round_is_assigned_scored_on_a_phone_corrected_and_aggregated(  # noqa: PLR0915 (one journey, told in order)
    rounds: Rounds, playwright_browser: Browser, page: Page
) -> None:
    r, w = rounds, rounds.world
    sign_in(page, r, "secretariat")
    navigate(page, "评审", "评审轮次")
    page.get_by_role("link", name="初评").first.click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("开启初评")
    for entry in w.entries:
        expect(page.locator("table.entrants")).to_contain_text(entry.serial)
    checked(page, "open")
    page.get_by_role("button", name="确认开启本轮（10 项成果）").click()
    expect(page.locator(".notice")).to_contain_text("本轮已开启")
    page.get_by_role("button", name="自动分配", exact=False).click()
    expect(page.locator(".notice")).to_contain_text("已自动分配评委")
    huangpu = next(e for e in w.entries if e.unit == "huangpu")
    row = page.locator(f"#r-{huangpu.serial}")
    expect(row).to_contain_text(w.experts[0].number)
    expect(row).to_contain_text("评审组成员（回避）")
    checked(page, "round")

    page.get_by_label("成果", exact=True).select_option(huangpu.submission_id)
    page.get_by_label("评委", exact=True).select_option(w.experts[0].number)
    page.get_by_role("button", name="手动分配").click()
    expect(page.locator("#e-certificate_number")).to_contain_text("评审组成员")
    checked(page, "refused")

    review_round = r.ledger.get_round(UUID(w.campaign_id), "initial")
    me = max(
        w.experts,
        key=lambda x: sum(x.number in v for v in review_round.assignments.values()),
    )
    mine = sorted(
        (k for k, v in review_round.assignments.items() if me.number in v),
        key=lambda k: w.entry(k).serial,
    )
    for key, numbers in review_round.assignments.items():  # the others file through the ledger
        entry = w.entry(key)
        for number in numbers:
            if number != me.number:
                criteria = w.criteria(entry.topic_type, entry.quality, w.expert(number).bias)
                r.ledger.file_sheet(
                    UUID(w.campaign_id),
                    "initial",
                    submission_id=UUID(entry.submission_id),
                    reviewer=number,
                    criteria={k: Decimal(v) for k, v in criteria.items()},
                    comment="",
                    corrects=None,
                    reason="",
                    actor=Actor(f"reviewer-{number}", Role.REVIEWER),
                )

    phone = playwright_browser.new_context(viewport=PHONE, locale="zh-CN")
    try:
        reviewer = phone.new_page()
        sign_in(reviewer, r, me.number)
        navigate(reviewer, "我的评审")  # 菜单 first, on a phone
        expect(reviewer.locator(".progress-line").first).to_contain_text(f"已评 0/{len(mine)}")
        phone_checked(reviewer, "queue")
        reviewer.get_by_role("link", name=w.entry(mine[0]).serial).click()
        for position, key in enumerate(mine):
            entry = w.entry(key)
            expect(reviewer.locator(".progress-line")).to_contain_text(
                f"第 {position + 1} 项，共 {len(mine)} 项"
            )
            criteria = w.criteria(entry.topic_type, entry.quality, me.bias)
            fields = reviewer.locator(".criterion input")
            for i, value in enumerate(criteria.values()):
                fields.nth(i).fill(value)
            typed = sum(Decimal(v) for v in criteria.values())
            shown = str(int(typed)) if typed == int(typed) else str(typed.normalize())
            expect(reviewer.locator("#sheet-total")).to_have_text(shown)
            if position == 0:
                phone_checked(reviewer, "sheet")
            reviewer.get_by_role("button", name="保存并下一项").click()
        expect(reviewer.locator(".notice")).to_contain_text("均已评分")

        reviewer.goto(f"{r.url}/saq/reviewer/{w.campaign_id}/initial/{mine[0]}")
        report = reviewer.locator("details.result-details")
        expect(report).not_to_have_attribute("open", "")  # a tap away on a phone
        reviewer.locator("details.result-details summary").click()
        expect(report.get_by_role("link", name="成果报告：report.pdf")).to_be_visible()
        reviewer.locator(".criterion input").first.fill("1")
        reviewer.get_by_label("更正原因").fill("选题一项看错了材料")
        reviewer.get_by_role("button", name="保存", exact=True).click()
        expect(reviewer.locator(".notice")).to_contain_text("更正已保存")
        phone_checked(reviewer, "corrected")
        navigate(reviewer, "我的评审")  # 菜单 first, on a phone
        reviewer.get_by_role("link", name="我已提交的评分表").click()
        expect(reviewer.get_by_role("heading", level=1)).to_have_text("我已提交的评分表")
        expect(reviewer.locator("table.list tbody tr")).to_have_count(len(mine))
        phone_checked(reviewer, "sheets")
    finally:
        phone.close()

    page.goto(f"{r.url}/saq/rounds/{w.campaign_id}/initial")
    page.get_by_role("button", name="汇总得分").click()
    expect(page.locator(".notice")).to_contain_text("已汇总得分")
    page.get_by_role("link", name="评分矩阵").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("评分矩阵")
    checked(page, "matrix")
    api = page.request.get(
        f"{r.url}/api/v1/tenants/saq/campaigns/{w.campaign_id}/rounds/initial/matrix"
    ).json()
    for row in api["rows"]:
        line = page.locator(
            "table.matrix tbody tr", has=page.locator(f"th:text-is('{row['serial']}')")
        )
        expect(line.locator("td").first).to_have_text(str(row["score"]))
        for cell in row["cells"]:
            expect(line).to_contain_text(str(cell["total"]))
    corrected = next(row for row in api["rows"] if row["submission_id"] == mine[0])
    assert any(c["corrections"] == 1 for c in corrected["cells"])
    page.locator(
        "table.matrix tbody tr", has=page.locator(f"th:text-is('{corrected['serial']}')")
    ).get_by_role("link").click()
    expect(page.locator("main")).to_contain_text("更正：选题一项看错了材料")
    checked(page, "inputs")


def phone_checked(page: Page, name: str) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"{name}: {width} px wide at 390 px"
    assert_accessible(page)
    if SHOTS:
        page.screenshot(path=str(SHOTS / f"reviewer-{name}-390.png"), full_page=True)
        page.set_viewport_size({"width": 1280, "height": 900})
        page.screenshot(path=str(SHOTS / f"reviewer-{name}-1280.png"), full_page=True)
        page.set_viewport_size(PHONE)
