"""The secretariat's accounts and recommendation decisions in Chromium (issue 19 §2): it invites
two recommending units, who accept in a second browser; a role is granted and revoked, a locked
account unlocked; a filed 推荐表 (set up through the API) is returned with a reason and the unit
is granted extra quota. Every page is axe-clean and fits 390 px."""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

import pytest
from playwright.sync_api import Browser, Page, expect

from aggregates.actor import Actor, Role
from tenants.settings import Settings
from tests.api.conftest import make_account, sign_in
from tests.api.published_world import cheap_passwords
from tests.api.test_portal_decisions import Client, file_a_form
from tests.e2e import pages
from tests.e2e.conftest import OverHttp, in_a_thread, served
from tests.e2e.pages import accepts, invites
from tests.e2e.test_formal_review import signed_in
from tests.support import Clock, beijing

pytestmark = pytest.mark.e2e

SHOTS = Path(os.environ["QCFLOW_SCREENSHOTS"]) if os.environ.get("QCFLOW_SCREENSHOTS") else None
NOW = beijing(2024, 1, 15, 9, 30)
"""Inside the 2024 campaign's submission and recommendation windows (tests/api's campaign)."""


@dataclass
class World:
    url: str
    campaign_id: str
    login: str
    password: str
    locked: str
    app: Any


async def _build(client: Client) -> tuple[str, str, str, str]:
    """Through the API of the served app: a 2024 campaign where pudong has filed its 推荐表 of
    two results (its quota two); a secretariat account to sign in with; an auditor's account
    locked by failed sign-ins."""
    with cheap_passwords(client, "saq"):
        client.headers.update(await sign_in(client, "saq", Role.SECRETARIAT))
        j = await file_a_form(client)
        login, password = make_account(client, "saq", Role.SECRETARIAT)
        locked, _ = make_account(client, "saq", Role.AUDITOR)
    ledger = client.app.state.platform.tenants["saq"].ledger
    account = ledger.find_account(locked)
    ledger.lock_account(account.id, "连续多次登录失败", None, Actor("qcflow", Role.SYSTEM))
    return str(j.campaign["id"]), login, password, locked


@pytest.fixture(scope="module")
def world(database: str | None, tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    """The app served once: the world is built over its HTTP API (one app start, not one to
    build and another to serve)."""
    settings = Settings(
        database_url=database, data_dir=tmp_path_factory.mktemp("e2e") / "var", pg_pool_size=2
    )
    clock = Clock(NOW)
    with served(settings, clock) as (url, app):

        async def build() -> tuple[str, str, str, str]:
            async with OverHttp(url, app) as http:
                return await _build(cast(Client, http))

        campaign_id, login, password, locked = in_a_thread(build)
        yield World(url, campaign_id, login, password, locked, app)


def looks_right(page: Page, name: str) -> None:
    pages.looks_right(page, f"staff-{name}", SHOTS)


def test_the_secretariat_invites_units_manages_roles_and_decides_on_a_filed_form(
    world: World, page: Page, playwright_browser: Browser
) -> None:
    signed_in(page, world.url, world.login, world.password)
    page.goto(world.url + "/saq/")
    pages.navigate(page, "账号", "账号与邀请")
    expect(page.get_by_role("heading", level=1)).to_have_text("账号与邀请")
    page.get_by_label("登录名（电子邮箱）").fill("huangpu@example.cn")
    page.get_by_label("姓名").fill("黄浦区质协")
    page.get_by_role("button", name="发出邀请").click()  # no role chosen
    expect(page.locator("#e-role")).to_have_text("请选择角色")
    looks_right(page, "invite-refused")

    first = invites(page, "huangpu@example.cn", "黄浦区质协", "黄浦区")
    looks_right(page, "invited")
    second = invites(page, "xuhui@example.cn", "徐汇区质协", "徐汇区")
    for link in (first, second):
        accepts(playwright_browser, world.url, link)
    page.reload()
    for login in ("huangpu@example.cn", "xuhui@example.cn"):
        expect(page.locator(f'tr[data-login="{login}"] .state')).to_have_text("已启用")

    manages_roles(page, world)
    decides(page, world)


def manages_roles(page: Page, world: World) -> None:
    """A role granted and revoked (the reason refused beside its field first); a locked
    account unlocked."""
    page.get_by_role("link", name="黄浦区质协").click()
    page.get_by_role("combobox", name="角色").select_option(label="审计")
    page.get_by_role("button", name="授予角色").click()
    expect(page.locator(".notice")).to_have_text("已授予角色。")
    audit = page.locator("li.grant", has_text="审计")
    audit.get_by_role("button", name="收回角色").click()  # no reason
    expect(page.locator("li.grant", has_text="审计").locator(".error")).to_have_text(
        "请说明收回角色的原因"
    )
    looks_right(page, "account-refused")
    page.locator("li.grant", has_text="审计").get_by_label("收回原因").fill("误授")
    page.locator("li.grant", has_text="审计").get_by_role("button", name="收回角色").click()
    expect(page.locator(".notice")).to_have_text("已收回角色。")
    expect(page.locator("li.grant")).to_have_count(1)

    page.goto(world.url + "/saq/staff/accounts/")
    page.locator(f'tr[data-login="{world.locked}"] a').click()
    expect(page.locator(".facts .state")).to_have_text("已锁定")
    looks_right(page, "account-locked")
    page.get_by_role("button", name="解除锁定").click()
    expect(page.locator(".notice")).to_have_text("已解除锁定。")
    expect(page.locator(".facts .state")).to_have_text("已启用")


def decides(page: Page, world: World) -> None:
    """The filed 推荐表 read, returned with a reason (refused without), extra quota granted."""
    pages.navigate(page, "活动", "推荐决定")
    page.get_by_role("link", name="2024年上海市质量管理小组活动").click()
    expect(page.locator('tr[data-unit="pudong"]')).to_contain_text("已报送")
    looks_right(page, "decision-units")
    page.locator('tr[data-unit="pudong"] a').click()
    expect(page.locator("table.entries tbody tr")).to_have_count(2)
    looks_right(page, "decision-form")
    page.get_by_role("button", name="退回", exact=True).click()  # no reason
    expect(page.locator("#e-return-reason")).to_have_text("请说明退回原因")
    page.get_by_label("退回原因（推荐单位可见）").fill("第2名成果评价过于简略，请补充后重新报送。")
    page.get_by_role("button", name="退回", exact=True).click()
    expect(page.locator(".notice")).to_contain_text("已退回推荐表")
    expect(page.locator(".facts .state")).to_have_text("已退回")
    page.get_by_label("增加名额（个）").fill("1")
    page.get_by_label("增加名额的理由").fill("本区推进成效显著")
    page.get_by_role("button", name="增加名额").click()
    expect(page.locator(".notice")).to_contain_text("已增加推荐名额")
    expect(page.locator(".facts .quota")).to_have_text("2 / 3（含增加名额 1）")
    looks_right(page, "decision-decided")
