"""An applicant unit's result forms in Chromium: a QC result drafted with six members (rows
added in place), its files uploaded with a progress bar, refused for what is missing, submitted
with its serial, refused on another unit's result, returned by the secretariat with two items
shown beside the fields, corrected and resubmitted; a team form drafted with its figures."""

from __future__ import annotations

import os
import re
import uuid
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from aggregates.account import AccountStatus, Grant
from aggregates.actor import Actor, Role
from aggregates.campaign import Campaign, Programme
from aggregates.submission_forms import QcResultForm
from tests.e2e import pages
from tests.e2e.conftest import Site
from tests.e2e.test_formal_review import signed_in
from tests.support import new_password

pytestmark = pytest.mark.e2e

SHOTS = Path(os.environ["QCFLOW_SCREENSHOTS"]) if os.environ.get("QCFLOW_SCREENSHOTS") else None
QC_2024 = Campaign.create_id("saq", Programme.QC_GROUP, 2024)
TEAM_2024 = Campaign.create_id("saq", Programme.TEAM, 2024)
PDF = b"%PDF-1.4\n" + b"%" * 2000 + b"\n%%EOF\n"
MEMBERS = ["王芳", "李强", "张伟", "刘洋", "陈静", "杨帆"]


def applicant(site: Site, credit_code: str) -> tuple[str, str]:
    """A verified applicant unit's account (it speaks for its enterprise)."""
    login, password = f"unit-{uuid.uuid4().hex[:8]}@example.cn", new_password()
    site.app.state.platform.tenants["saq"].ledger.register_account(
        login=login,
        name="申报联系人",
        password=password,
        status=AccountStatus.ACTIVE,
        grants=[Grant(Role.APPLICANT_UNIT, credit_code)],
        actor=Actor("test-setup", Role.OPERATOR),
    )
    return login, password


def checked(page: Page, name: str) -> None:
    pages.looks_right(page, name, SHOTS)


def test_an_applicant_drafts_uploads_submits_and_resubmits_a_qc_result(
    site: Site, page: Page, tmp_path: Path
) -> None:
    signed_in(page, site.url, *applicant(site, "91100000100003962T"))
    here = draft_with_six_members(page, site)
    upload_the_files(page, tmp_path)
    submit_after_the_refusal(page)
    english_and_back(page)
    refused_on_another_units_result(page, site)
    returned_corrected_and_resubmitted(page, site, here, tmp_path)


def draft_with_six_members(page: Page, site: Site) -> str:
    page.goto(f"{site.url}/saq/applicant/campaigns/{QC_2024}/submissions/new?programme=qc_group")
    return fills_six_members(page)


def fills_six_members(page: Page, verified_name: str | None = None) -> str:
    """On the new QC result's form: fills it with six members (rows added in place) and saves
    the draft. An account that speaks for a verified enterprise is shown its name, read-only
    (以公章为准); another types it. Answers the draft's address."""
    expect(page.get_by_role("heading", level=1)).to_contain_text("新建申报")
    checked(page, "qc-new")

    if verified_name is not None:
        expect(page.locator("p.unit-name")).to_have_text(verified_name)
    else:
        page.get_by_label("单位名称（与公章一致）").fill("中国工商银行股份有限公司上海市分行")
    page.get_by_label("推荐单位").select_option("pudong")
    page.get_by_label("小组名称").fill("柜面服务质量改进QC小组")
    page.get_by_label("小组人数").fill("6")
    page.get_by_label("课题名称").fill("降低柜面业务差错率")
    page.get_by_label("所属行业").fill("金融业")
    page.get_by_label("问题解决型").check()
    page.evaluate("window.stillHere = true")  # a reload would forget it
    page.get_by_label("成员 1", exact=True).fill(MEMBERS[0])
    for n, name in enumerate(MEMBERS[1:], start=2):
        page.get_by_role("button", name="添加成员").click()
        expect(page.get_by_label(f"成员 {n}", exact=True)).to_be_focused()
        page.get_by_label(f"成员 {n}", exact=True).fill(name)
    page.get_by_role("button", name="添加成员").click()
    page.get_by_role("button", name="删除成员 7").click()
    expect(page.locator("ol.rows > li")).to_have_count(6)
    assert page.evaluate("window.stillHere") is True
    intro = page.get_by_label("QC 小组简介及主要活动过程与效果")
    intro.fill("小组围绕柜面业务差错开展活动。" * 60)
    expect(page.locator("#n-f-intro")).to_contain_text("900 / 1200 字")
    page.get_by_role("button", name="保存草稿").last.click()
    expect(page.locator(".notice")).to_contain_text("草稿已保存")
    expect(page.get_by_label("成员 6", exact=True)).to_have_value("杨帆")
    checked(page, "qc-draft")
    return page.url.split("?")[0]


def upload_the_files(page: Page, tmp_path: Path) -> None:

    # The sealed form, slowly enough to see its progress bar.
    cdp = page.context.new_cdp_session(page)
    cdp.send("Network.enable")
    cdp.send(
        "Network.emulateNetworkConditions",
        {"offline": False, "latency": 0, "downloadThroughput": -1, "uploadThroughput": 1_000_000},
    )
    sealed = tmp_path / "申报表.pdf"
    sealed.write_bytes(PDF + b"0" * 3_000_000)
    box = page.locator("#attachment-application_form")
    box.get_by_label("选择或拖入文件").set_input_files(str(sealed))
    box.get_by_role("button", name="上传").click()
    expect(box.locator("progress")).to_be_visible()
    expect(page.locator(".notice")).to_contain_text("文件已上传", timeout=30_000)
    cdp.send(
        "Network.emulateNetworkConditions",
        {"offline": False, "latency": 0, "downloadThroughput": -1, "uploadThroughput": -1},
    )
    expect(page.locator("#attachment-application_form")).to_contain_text("申报表.pdf")

    report = page.locator("#attachment-report")
    fake = tmp_path / "报告.pdf"
    fake.write_bytes(b"MZ\x90\x00" + b"\x00" * 4000)
    report.get_by_label("选择或拖入文件").set_input_files(str(fake))
    report.get_by_role("button", name="上传").click()
    expect(page.locator("#e-f-attachments-report")).to_contain_text("文件内容不是允许的格式（PDF）")
    real = tmp_path / "成果报告.pdf"
    real.write_bytes(PDF + b"report")
    report.get_by_label("选择或拖入文件").set_input_files(str(real))
    report.get_by_role("button", name="上传").click()
    expect(page.locator("#attachment-report")).to_contain_text("成果报告.pdf")
    evidence = tmp_path / "证实性材料.pdf"
    evidence.write_bytes(PDF + b"evidence")
    page.locator("#attachment-evidence").get_by_label("选择或拖入文件").set_input_files(
        str(evidence)
    )
    page.locator("#attachment-evidence").get_by_role("button", name="上传").click()
    expect(page.locator("#attachment-evidence")).to_contain_text("证实性材料.pdf")


def submit_after_the_refusal(page: Page) -> None:
    intro = page.get_by_label("QC 小组简介及主要活动过程与效果")

    page.get_by_role("button", name="提交申报").click()
    expect(page.locator("#e-f-commitments-0")).to_contain_text("须接受承诺")
    checked(page, "qc-missing")
    intro.fill("小组围绕柜面业务差错开展活动。" * 70)
    for i in range(4):
        page.locator(f"#f-commitments-{i}").check()
    page.get_by_role("button", name="提交申报").click()
    serial = page.locator(".notice strong")
    expect(serial).to_have_text(re.compile(r"\S+"))
    number = serial.inner_text()
    expect(page.locator("dd.serial")).to_have_text(number)


def english_and_back(page: Page) -> None:

    page.get_by_role("link", name="English").click()
    expect(page.locator("main")).to_contain_text("Serial number")
    expect(page.get_by_label("Group size")).to_have_value("6")
    checked(page, "qc-submitted-en")
    page.get_by_role("link", name="简体中文").click()
    expect(page.locator("main")).to_contain_text("申报编号")


def refused_on_another_units_result(page: Page, site: Site) -> None:

    ledger = site.app.state.platform.tenants["saq"].ledger
    other, _ = ledger.draft_submission(
        campaign_id=QC_2024,
        credit_code="91310000132260250X",
        applicant={"unit_name": "另一家单位", "key_domain": None, "key_industries": []},
        recommending_unit="pudong",
        form=QcResultForm(group_name="另一个小组"),
        actor=Actor("someone-else", Role.APPLICANT_UNIT),
    )
    response = page.goto(f"{site.url}/saq/applicant/submissions/{other.id}")
    assert response is not None and response.status == 404
    expect(page.get_by_role("heading", level=1)).to_have_text("页面不存在")
    assert "另一个小组" not in page.content()


def returned_corrected_and_resubmitted(page: Page, site: Site, here: str, tmp_path: Path) -> None:
    ledger = site.app.state.platform.tenants["saq"].ledger

    submission_id = uuid.UUID(here.rsplit("/", 1)[1])
    ledger.return_submission(
        submission_id,
        ["小组人数与成员名单须一致，请核对", "成果报告缺少盖章页"],
        Actor("secretariat", Role.SECRETARIAT),
    )
    page.goto(here)
    corrects_and_resubmits(page, site, here, tmp_path)


def corrects_and_resubmits(page: Page, site: Site, here: str, tmp_path: Path) -> None:
    """On the returned result's form: its two items shown beside the fields; corrected and
    resubmitted."""
    ledger = site.app.state.platform.tenants["saq"].ledger
    submission_id = uuid.UUID(here.rsplit("/", 1)[1])
    expect(page.locator("#c-f-group_size")).to_contain_text("小组人数与成员名单须一致")
    expect(page.locator("#c-f-attachments-report")).to_contain_text("成果报告缺少盖章页")
    checked(page, "qc-returned")
    page.get_by_label("小组人数").fill("6")
    stamped = tmp_path / "成果报告（盖章）.pdf"
    stamped.write_bytes(PDF + b"stamped")
    report = page.locator("#attachment-report")
    report.get_by_label("选择或拖入新文件以替换").set_input_files(str(stamped))
    report.get_by_role("button", name="上传并替换").click()
    expect(page.locator("#attachment-report")).to_contain_text("成果报告（盖章）.pdf")
    expect(page.locator("#attachment-report")).not_to_contain_text("成果报告.pdf")
    page.get_by_role("button", name="修改后重新提交").click()
    expect(page.locator(".result-facts")).to_contain_text("已提交")
    assert ledger.get_submission(submission_id).status.value == "submitted"


def test_an_applicant_drafts_a_team_form_with_its_figures(site: Site, page: Page) -> None:
    signed_in(page, site.url, *applicant(site, "91310000631696378L"))
    page.goto(f"{site.url}/saq/applicant/campaigns/{TEAM_2024}/submissions/new?programme=team")
    page.get_by_label("单位名称（与公章一致）").fill("上海某某制造有限公司")
    page.get_by_label("推荐单位").select_option("pudong")
    page.get_by_label("班组名称").fill("装配一班")
    page.get_by_label("班组人数").fill("12")
    page.get_by_label("班组长").fill("王芳")
    figures = {
        "work_completion_pct": "100",
        "quality_pass_pct": "99.5",
        "nonconformity_pct": "1",
        "accidents": "0",
        "training_hours": "480",
        "quality_cost_10k": "12.5",
    }
    for name, value in figures.items():
        page.locator(f"#f-figures-{name}").fill(value)
    page.locator("#f-sections-0").fill("班组共 12 人。" * 10)
    expect(page.locator("#n-sections")).to_contain_text("六部分合计 90 / 5000 字")
    page.get_by_role("button", name="保存草稿").last.click()
    expect(page.locator("#e-f-figures-nonconformity_pct")).to_contain_text(
        "合格率与不合格率之和不能超过 100%"
    )
    expect(page.locator("#f-figures-training_hours")).to_have_value("480")
    checked(page, "team-refused")
    page.locator("#f-figures-nonconformity_pct").fill("0.5")
    page.get_by_role("button", name="保存草稿").last.click()
    expect(page.locator(".notice")).to_contain_text("草稿已保存")
    expect(page.locator("#f-figures-quality_cost_10k")).to_have_value("12.5")
    expect(page.locator("#f-sections-0")).to_have_value("班组共 12 人。" * 10)
    checked(page, "team-draft")
