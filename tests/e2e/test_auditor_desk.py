"""The auditor's desk in Chromium, on SQLite and PostgreSQL: an auditor finds a published result
by its serial, reads its history, picks a past moment and sees the state the ledger replays
there, runs the campaign's recomputation (intact); a sheet is altered behind the platform's back
and the desk names the difference and the broken link; the audit package downloads."""

from __future__ import annotations

import os
import uuid
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path
from uuid import UUID

import msgspec
import pytest
from playwright.sync_api import Page, expect

from aggregates.account import AccountStatus, Grant
from aggregates.actor import Actor, Role
from aggregates.review_round import ReviewRound
from aggregates.submission import Submission
from tests.api.published_world import ROUND
from tests.e2e.conftest import Site
from tests.e2e.pages import looks_right, sign_in
from tests.support import new_password
from tests.tamper import BehindTheBack

pytestmark = pytest.mark.e2e

SHOTS = Path(os.environ["QCFLOW_SCREENSHOTS"]) if os.environ.get("QCFLOW_SCREENSHOTS") else None


def auditor(site: Site) -> tuple[str, str]:
    ledger = site.app.state.platform.tenants["saq"].ledger
    login, password = f"auditor-{uuid.uuid4().hex[:8]}@example.cn", new_password()
    ledger.register_account(
        login=login,
        name="周敏",
        password=password,
        status=AccountStatus.ACTIVE,
        grants=[Grant(Role.AUDITOR)],
        actor=Actor("test-setup", Role.OPERATOR),
    )
    return login, password


def alter_a_sheet(site: Site) -> tuple[str, int]:
    """Someone with database access lowers one recorded sheet total; its serial and place."""
    tenant = site.app.state.platform.tenants["saq"]
    round_id = ReviewRound.create_id(UUID(site.published.campaign_id), ROUND)
    sheet = next(
        e for e in tenant.ledger.events.get(round_id) if isinstance(e, ReviewRound.SheetFiled)
    )
    db = BehindTheBack(tenant.location)
    state = msgspec.json.decode(db.state(round_id, sheet.originator_version))
    state["total"] = {
        "_type_": "decimal_str",
        "_data_": str(Decimal(state["total"]["_data_"]) - 10),
    }
    db.rewrite(round_id, sheet.originator_version, msgspec.json.encode(state))
    serial = next(
        s["serial"] for s in site.published.submissions if s["id"] == str(sheet.submission_id)
    )
    return serial, db.position(round_id, sheet.originator_version)


def test_an_auditor_traces_a_result_and_sees_an_altered_sheet(page: Page, site: Site) -> None:
    result = site.published.graded()[0]
    login, password = auditor(site)
    sign_in(page, site.url, login, password)

    page.get_by_role("link", name="审计", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("审计")
    looks_right(page, "audit-desk", SHOTS)
    page.get_by_label("成果编号、单位名称、统一社会信用代码、证书编号或记录编号").fill(
        result["serial"]
    )
    page.get_by_role("button", name="查找").click()
    page.locator("table.found").get_by_role("link", name="历史").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(result["serial"])
    expect(page.locator(".step-item").first).to_contain_text("#1")
    looks_right(page, "audit-history", SHOTS)

    # A past moment: the second after the result was first recorded (to the second, as the
    # picker takes it); the page shows what the ledger replays there.
    first = page.locator(".step-item time").first.get_attribute("datetime")
    assert first is not None
    moment = datetime.fromisoformat(first).replace(microsecond=0) + timedelta(seconds=1)
    page.get_by_label("查看某一时刻的状态").fill(moment.strftime("%Y-%m-%dT%H:%M:%S"))
    page.get_by_role("button", name="查看", exact=True).click()
    ledger = site.app.state.platform.tenants["saq"].ledger
    replayed = ledger.state_at(UUID(result["id"]), Submission, at=moment)
    expect(page.get_by_role("heading", level=2)).to_have_text(f"第 {replayed.version} 步之后的状态")
    looks_right(page, "audit-state", SHOTS)

    with page.expect_download() as downloaded:
        page.get_by_role("link", name="审计包（PDF）").click()
    assert Path(downloaded.value.path()).read_bytes().startswith(b"%PDF")

    recomputation = f"{site.url}/saq/audit/campaign/{site.published.campaign_id}/recomputation"
    page.goto(recomputation)
    expect(page.locator(".verdict")).to_contain_text("一致：")
    looks_right(page, "audit-recomputation", SHOTS)

    serial, place = alter_a_sheet(site)
    page.reload()
    expect(page.locator(".verdict")).to_contain_text("不一致：发现 1 处差异")
    expect(page.locator("tr.difference")).to_contain_text(serial)
    page.get_by_role("navigation", name="位置").get_by_role("link", name="审计").click()
    page.get_by_role("link", name="核对本协会全部记录的哈希链").click()
    expect(page.locator(".verdict")).to_contain_text("已断开：")
    expect(page.locator("tr.break").first).to_contain_text(str(place))
    expect(page.locator("tr.break").first).to_contain_text("changed")
    looks_right(page, "audit-chain", SHOTS)
