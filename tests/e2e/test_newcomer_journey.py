"""Issue 18's one continuous journey, in Chromium: a newcomer opens `/`, picks 上海市质量协会,
registers an applicant unit with its licence and letter, confirms the mailed code, signs in and
sees its claim await verification; the secretariat, in a second browser, opens the files and
verifies it; the applicant fills the 报名 form, drafts a QC result with six members from
我的申报 (following the pages' own links), uploads the sealed form and report, is refused for
what is missing, submits and reads the serial, switches to English and back, is refused on
another unit's result; the secretariat returns the result with two items through the JSON API,
and the applicant corrects and resubmits.

The steps are the other e2e modules' own, chained on one account: this module only adds the
links between them and the return through the API."""

from __future__ import annotations

import uuid
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect

from tests.e2e.conftest import Site
from tests.e2e.pages import sign_in
from tests.e2e.test_accounts_journey import ENTERPRISE, registers, the_secretariat_verifies
from tests.e2e.test_applicant_channel import SAQ_2024_QC
from tests.e2e.test_applicant_channel import register as fills_the_registration
from tests.e2e.test_result_forms import (
    corrects_and_resubmits,
    english_and_back,
    fills_six_members,
    refused_on_another_units_result,
    submit_after_the_refusal,
    upload_the_files,
)
from tests.support import new_password

pytestmark = pytest.mark.e2e

ITEMS = ["小组人数与成员名单须一致，请核对", "成果报告缺少盖章页"]


def test_a_newcomer_registers_is_verified_files_a_result_and_resubmits_it(
    site: Site, page: Page, playwright_browser: Browser, tmp_path: Path
) -> None:
    login, password = f"newcomer-{uuid.uuid4().hex[:8]}@icbc.example.cn", new_password()
    registers(page, site, login, password)
    sign_in(page, site.url, login, password)
    nav = page.get_by_role("navigation", name="主导航")
    nav.get_by_role("link", name="我的账号").click()
    expect(page.locator("section.claim .state")).to_have_text("待核验")

    the_secretariat_verifies(playwright_browser, site, login)
    page.reload()
    expect(page.locator("section.claim .state")).to_have_text("已核验")

    nav.get_by_role("link", name="我的申报").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("我的申报")
    fills_the_registration(page, {"unit_name": ENTERPRISE})

    nav.get_by_role("link", name="我的申报").click()
    campaign = page.locator("section.campaign-results", has_text=SAQ_2024_QC)
    campaign.get_by_role("link", name="新建成果申报").click()
    here = fills_six_members(page, verified_name=ENTERPRISE)
    upload_the_files(page, tmp_path)
    submit_after_the_refusal(page)
    english_and_back(page)
    refused_on_another_units_result(page, site)
    expect(page.locator(".who .person")).to_be_visible()  # still signed in, the layout kept
    expect(page.get_by_role("link", name="返回首页")).to_have_attribute("href", "/saq/")

    submission_id = here.rsplit("/", 1)[1]
    returned_through_the_api(site, uuid.UUID(submission_id))
    nav.get_by_role("link", name="我的申报").click()  # it tells what is asked next
    card = page.locator(f'[data-submission="{submission_id}"]')
    expect(card.locator(".stage")).to_contain_text("退回修改")
    card.locator(".next").get_by_role("link", name="按退回意见修改后重新提交").click()
    assert page.url.split("?")[0] == here
    corrects_and_resubmits(page, site, here, tmp_path)
    nav.get_by_role("link", name="我的申报").click()
    expect(card.locator('[aria-current="step"]')).to_have_text("已提交")


def returned_through_the_api(site: Site, submission_id: uuid.UUID) -> None:
    """The secretariat returns the result for correction with two items (the JSON API)."""
    api = f"{site.url}/api/v1/tenants/saq"
    with httpx.Client(timeout=30) as http:
        session = http.post(f"{api}/session", json={"login": site.login, "password": site.password})
        assert session.status_code == 201, session.text
        returned = http.post(
            f"{api}/submissions/{submission_id}/return",
            json={"items": ITEMS},
            headers={"Authorization": f"Bearer {session.json()['token']}"},
        )
        assert returned.status_code == 200, returned.text
