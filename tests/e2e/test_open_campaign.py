"""Opening a campaign in the browser (issue 19 §2), in Chromium, on SQLite and PostgreSQL: the
secretariat opens next year's QC campaign from last year's (the timeline shifted a year), edits a
window, has a bad window refused beside its field, fixes it, previews and opens; then opens a
rehearsal (演练) of the same year beside it, whose page offers its deletion. Every page is
axe-clean and fits 390 px."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.e2e import pages
from tests.e2e.conftest import Site
from tests.e2e.test_formal_review import signed_in

pytestmark = pytest.mark.e2e

SHOTS = Path(os.environ["QCFLOW_SCREENSHOTS"]) if os.environ.get("QCFLOW_SCREENSHOTS") else None


def looks_right(page: Page, name: str) -> None:
    pages.looks_right(page, f"setup-{name}", SHOTS)


def sign_in(page: Page, site: Site) -> None:
    signed_in(page, site.url, site.login, site.password)
    page.goto(f"{site.url}/saq/")


def test_the_secretariat_opens_next_years_campaign_from_last_years_and_a_rehearsal(
    page: Page, site: Site
) -> None:
    sign_in(page, site)
    pages.navigate(page, "活动", "开设活动")
    qc = page.get_by_role("region", name="质量管理小组活动")
    expect(qc.get_by_label("年度", exact=True)).to_have_value(
        "2025"
    )  # last year's (the seeds') was 2024
    looks_right(page, "start")
    qc.get_by_role("button", name="开始填写").click()

    # Last year's campaign, a year later.
    expect(page.get_by_label("活动名称")).to_have_value("2025年上海市质量管理小组活动")
    submission = page.get_by_role("group", name="成果申报")
    expect(submission.get_by_label("开始")).to_have_value("2025-02-01T00:00")
    expect(page.get_by_label("每家申报单位至多申报成果数")).to_have_value("3")
    looks_right(page, "form")

    # A window edited; another closing before it opens: refused beside its field, input kept.
    submission.get_by_label("截止").fill("2025-04-30T22:00")
    review = page.get_by_role("group", name="材料文审/专家会审")
    review.get_by_label("截止").fill("2025-05-15T17:00")
    page.get_by_label("活动主题").fill("质量强国 班组先行")
    page.get_by_role("button", name="预览").click()
    expect(review.get_by_text("截止时间须晚于开始时间")).to_be_visible()
    expect(review.get_by_label("截止")).to_have_attribute("aria-invalid", "true")
    expect(page.get_by_label("活动主题")).to_have_value("质量强国 班组先行")
    expect(submission.get_by_label("截止")).to_have_value("2025-04-30T22:00")
    looks_right(page, "refused")

    review.get_by_label("截止").fill("2025-07-31T17:00")
    page.get_by_role("button", name="预览").click()
    expect(page.get_by_role("heading", name="预览：将开设的活动")).to_be_visible()
    expect(page.get_by_role("img", name="活动时间轴")).to_be_visible()
    expect(page.get_by_text("2025年7月31日 17:00")).to_be_visible()
    looks_right(page, "preview")
    page.get_by_role("button", name="开设活动").click()
    expect(page.get_by_text("活动已开设。")).to_be_visible()
    expect(page.get_by_text("质量强国 班组先行")).to_be_visible()
    looks_right(page, "opened")

    # A rehearsal of the same year, beside the real one.
    pages.navigate(page, "活动", "开设活动")
    qc = page.get_by_role("region", name="质量管理小组活动")
    qc.get_by_label("年度", exact=True).fill("2025")
    qc.get_by_role("radio", name="默认值（种子通知）").check()
    qc.get_by_role("button", name="开始填写").click()
    page.get_by_label("演练活动（不占用正式活动的年度和编号）").check()
    page.get_by_label("活动名称").fill("2025年质量管理小组活动（演练）")
    page.get_by_role("button", name="预览").click()
    expect(page.get_by_text("这是演练活动", exact=False)).to_be_visible()
    page.get_by_role("button", name="开设演练活动").click()
    expect(page.get_by_text("演练活动已开设。")).to_be_visible()
    expect(page.get_by_role("heading", name="删除演练活动")).to_be_visible()
    looks_right(page, "rehearsal")

    # Deleting it needs a reason.
    page.get_by_role("button", name="删除演练活动").click()
    expect(page.get_by_text("不能为空")).to_be_visible()
    page.get_by_label("删除原因").fill("新员工培训结束")
    page.get_by_role("button", name="删除演练活动").click()
    expect(page.get_by_text("已删除", exact=False)).to_be_visible()
