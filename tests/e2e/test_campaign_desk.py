"""The secretariat's campaign desk in Chromium, on SQLite and PostgreSQL: the secretariat opens
the desk of Shanghai's 2024 QC campaign from its campaigns, sees the counts move after a result
is submitted (through the API), sees the applicant below the campaign's least number of results,
and reminds the late units by mail with one click; the mail is read from the mail folder. Every
page axe-clean and usable at 390 px."""

from __future__ import annotations

import os
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Page, expect

from aggregates.account import AccountStatus, Grant
from aggregates.actor import Actor, Role
from api.platform.mail import delivered_mail
from tests.api.review_world import credit_code
from tests.e2e import pages
from tests.e2e.conftest import Site
from tests.e2e.test_applicant_channel import PDF, SAQ_2024_QC, qc_result
from tests.e2e.test_formal_review import signed_in
from tests.support import new_password

pytestmark = pytest.mark.e2e

SHOTS = Path(os.environ["QCFLOW_SCREENSHOTS"]) if os.environ.get("QCFLOW_SCREENSHOTS") else None
CREDIT_CODE = credit_code(9001)
UNIT_NAME = "上海浦江精密机械有限公司"


def account(site: Site, role: Role, scope: str, name: str) -> tuple[str, str]:
    ledger = site.app.state.platform.tenants["saq"].ledger
    login, password = f"{role.value}-{uuid.uuid4().hex[:8]}@example.cn", new_password()
    ledger.register_account(
        login=login,
        name=name,
        password=password,
        status=AccountStatus.ACTIVE,
        grants=[Grant(role, scope)],
        actor=Actor("test-setup", Role.OPERATOR),
    )
    return login, password


def submit_a_result(site: Site, login: str, password: str) -> None:
    """Through the API: the applicant files one result under pudong."""
    api = f"{site.url}/api/v1/tenants/saq"
    with httpx.Client(timeout=30) as http:
        session = http.post(f"{api}/session", json={"login": login, "password": password})
        assert session.status_code == 201, session.text
        headers = {"Authorization": f"Bearer {session.json()['token']}"}
        campaigns: list[dict[str, Any]] = http.get(f"{api}/campaigns", headers=headers).json()
        campaign = next(c for c in campaigns if c["title"] == SAQ_2024_QC)
        drafted = http.post(
            f"{api}/campaigns/{campaign['id']}/submissions",
            json=qc_result("降低数控机床换型时间", "problem_solving", UNIT_NAME),
            headers=headers,
        )
        assert drafted.status_code == 201, drafted.text
        submission_id = drafted.json()["id"]
        for kind in ("application_form", "report", "evidence"):
            uploaded = http.post(
                f"{api}/submissions/{submission_id}/attachments/{kind}",
                params={"name": f"{kind}.pdf"},
                content=PDF + kind.encode() + submission_id.encode(),
                headers={**headers, "content-type": "application/octet-stream"},
            )
            assert uploaded.status_code == 201, uploaded.text
        submitted = http.post(f"{api}/submissions/{submission_id}/submit", headers=headers)
        assert submitted.status_code == 200, submitted.text


def check_page(page: Page, name: str) -> None:
    pages.looks_right(page, f"desk-{name}", SHOTS)


def total(page: Page, stage: str) -> str:
    return page.locator(f'tr.total td[data-stage="{stage}"]').inner_text().strip()


def test_the_secretariat_watches_the_counts_move_and_reminds_the_late_units(
    page: Page, site: Site
) -> None:
    unit_login, _ = account(site, Role.RECOMMENDING_UNIT, "pudong", "浦东新区质协")
    applicant = account(site, Role.APPLICANT_UNIT, CREDIT_CODE, "王芳")

    signed_in(page, site.url, site.login, site.password)
    page.goto(f"{site.url}/saq/")
    pages.navigate(page, "活动", "活动工作台")
    expect(page.get_by_role("heading", level=1)).to_have_text("活动工作台")
    card = page.locator("article.desk-card", has_text=SAQ_2024_QC)
    expect(card.locator(".timeline .today-label")).to_have_text("今天")
    check_page(page, "campaigns")
    card.get_by_role("link", name="打开工作台").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(SAQ_2024_QC)
    expect(page.locator(".countdown")).to_contain_text("距成果申报截止还有 2 天 3 小时")
    submitted_before = int(total(page, "submissions"))

    submit_a_result(site, *applicant)
    page.reload()
    assert int(total(page, "submissions")) == submitted_before + 1
    pudong = page.locator('tr[data-unit="浦东新区"]')
    expect(pudong.locator('td[data-stage="submissions"]')).to_have_text("1")
    below = page.locator(f'tr[data-below="{CREDIT_CODE}"]')
    expect(below).to_contain_text(UNIT_NAME)
    expect(page.locator('tr[data-late="pudong"]')).to_contain_text("未报送")
    check_page(page, "desk")

    late = page.locator("tr[data-late]").count()
    page.get_by_role("button", name=f"发送邮件提醒以上 {late} 个单位").click()
    expect(page.get_by_role("status")).to_contain_text(f"已向 {late} 个单位")

    site.app.state.mail.send_pending()
    mails = delivered_mail(site.app.state.settings, "saq", unit_login)
    assert len(mails) == 1
    assert "推荐表、统计表、工作总结" in str(mails[0]["Subject"])
    text = str(mails[0].get_content())
    assert SAQ_2024_QC in text and "成果推荐截止时间：2024年6月1日 00:00" in text
