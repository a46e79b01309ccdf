"""Phase control in the browser (issue 23, issue 19 §2), in Chromium: the secretariat previews
closing submission early (who is affected, what changes) and confirms it, opens formal review
now, and is refused reopening submission with the reason shown (formal review, which depends
on it, has started). Every page is axe-clean at 1280 px and fits 390 px."""

from __future__ import annotations

import os
from datetime import date, timedelta
from pathlib import Path
from uuid import UUID

import pytest
from playwright.sync_api import Page, expect

from aggregates.actor import Actor, Role
from aggregates.campaign import CampaignRules, Contact, Phase, Programme, Window
from tests.e2e import pages
from tests.e2e.conftest import NOW, Site
from tests.e2e.test_formal_review import signed_in

pytestmark = pytest.mark.e2e

SHOTS = Path(os.environ["QCFLOW_SCREENSHOTS"]) if os.environ.get("QCFLOW_SCREENSHOTS") else None
DAY = timedelta(days=1)


def looks_right(page: Page, name: str) -> None:
    pages.looks_right(page, f"phases-{name}", SHOTS)


def a_campaign(site: Site) -> str:
    """Through the ledger: saq's 2030 team campaign, submission open three more days,
    recommendation closed an hour ago, formal review in five days."""
    ledger = site.app.state.platform.tenants["saq"].ledger
    saved = ledger.open_campaign(
        programme=Programme.TEAM,
        year=2030,
        title="2030年上海市质量信得过班组建设经验交流（阶段管理）",
        document_number=None,
        theme=None,
        co_organisers=[],
        contact=Contact(person="杨瑾", phone="021-52588838"),
        period_start=date(2029, 1, 1),
        period_end=date(2029, 12, 31),
        rules=CampaignRules.defaults_for(Programme.TEAM),
        timeline={
            Phase.REGISTRATION: Window(NOW - 30 * DAY, NOW - DAY),
            Phase.SUBMISSION: Window(NOW - 30 * DAY, NOW + 3 * DAY),
            Phase.RECOMMENDATION: Window(NOW - 20 * DAY, NOW - timedelta(hours=1)),
            Phase.FORMAL_REVIEW: Window(NOW + 5 * DAY, NOW + 15 * DAY),
            Phase.MATERIAL_REVIEW: Window(NOW + 15 * DAY, NOW + 40 * DAY),
            Phase.PUBLICATION: Window(NOW + 60 * DAY, NOW + 90 * DAY),
        },
        actor=Actor("e2e-secretariat", Role.SECRETARIAT),
    )
    return str(saved.aggregate.id)


def test_close_submission_early_open_formal_review_now_and_a_refused_reopen(
    site: Site, page: Page
) -> None:
    site.clock.now = NOW
    campaign_id = a_campaign(site)
    signed_in(page, site.url, site.login, site.password)
    page.goto(f"{site.url}/saq/secretariat/campaigns/{campaign_id}/phases")
    expect(page.get_by_role("heading", level=1)).to_have_text("阶段管理")
    expect(page.locator("#phase-submission")).to_contain_text("进行中")
    looks_right(page, "list")

    page.get_by_role("link", name="立即截止：成果申报").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("立即截止：成果申报")
    expect(page.locator("#affected-drafts")).to_have_text("0")
    page.get_by_label("理由").fill("各推荐单位均已报送，提前截止申报")
    page.get_by_role("button", name="预览").click()
    preview = page.locator(".preview")
    expect(preview).to_contain_text("确认前预览")
    expect(preview.locator("tr.changed").first).to_contain_text("2024年4月28日 20:57")
    looks_right(page, "close-preview")
    page.get_by_role("button", name="确认立即截止").click()
    expect(page.locator(".notice")).to_contain_text("已办理：立即截止。")
    expect(page.locator("#phase-submission")).to_contain_text("已结束")

    page.get_by_role("link", name="立即开始：形式审查").click()
    page.get_by_label("理由").fill("最后一个推荐单位已报送，形式审查提前开始")
    page.get_by_role("button", name="预览").click()
    expect(page.locator(".preview")).to_contain_text("进行中")
    page.get_by_role("button", name="确认立即开始").click()
    expect(page.locator("#phase-formal_review")).to_contain_text("进行中")
    looks_right(page, "after")

    page.get_by_role("link", name="重新开放：成果申报").click()
    page.get_by_label("新的截止时间（北京时间）").fill("2024-04-30T22:00")
    page.get_by_label("理由").fill("个别单位未及时提交")
    page.get_by_role("button", name="预览").click()
    refusal = page.locator(".alert")
    expect(refusal).to_contain_text("“形式审查”已经开始")
    expect(page.locator(".preview")).to_have_count(0)
    expect(page.get_by_label("理由")).to_have_value("个别单位未及时提交")
    looks_right(page, "reopen-refused")
    ledger = site.app.state.platform.tenants["saq"].ledger
    campaign = ledger.get_campaign(UUID(campaign_id))
    assert campaign.phase_state(Phase.SUBMISSION, NOW) == "closed"
    assert campaign.phase_state(Phase.FORMAL_REVIEW, NOW) == "open"

    page.get_by_role("link", name="阶段管理").click()
    page.get_by_role("link", name="修改活动规则").click()
    page.get_by_label("小组成员人数上限").fill("12")
    page.get_by_label("理由").fill("放宽人数")
    page.get_by_role("button", name="预览").click()  # filing has opened: refused
    expect(page.locator(".alert")).to_contain_text("规则不能再修改")
    looks_right(page, "rules-refused")
