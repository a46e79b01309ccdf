"""The recommending unit's 统计表 and 工作总结 pages over the test client: laid out like the seed,
the rates shown are the API's, each refusal beside its item (the pasted credit codes line by
line) with the input kept and nothing stored, and a 404 page for another unit and an applicant."""

from __future__ import annotations

import re
from typing import Any

import pytest
from litestar.testing import AsyncTestClient

from aggregates.actor import Role
from aggregates.statistics_table import REVIEW_FORMS, StatisticsNotFound
from aggregates.work_summary import WorkSummaryNotFound
from api.portal.unit_report_forms import REVIEW_FORM_LABELS, compose, sections_of
from tests.api.conftest import make_account, sign_in
from tests.api.published_world import cheap_passwords
from tests.api.test_portal_pages import TOKEN, post_sign_in
from tests.api.test_recommendations import SAIC, SUMMARY
from tests.api.test_submissions import ICBC, SAQ, campaign_2024

pytestmark = pytest.mark.tenants("saq")

Client = AsyncTestClient[Any]
GOOD_CODE = "91100000100003962T"
BAD_CODE = "91310000132260250Y"  # SAIC's with the wrong check character
FIGURES = {
    "figures.employees": "12000",
    "figures.registered_all_years": "3500",
    "figures.registered_this_year": "420",
    "figures.participants": "3150",
    "figures.active_groups": "400",
    "figures.groups_with_results": "315",
    "figures.benefit_all_years_10k": "86500.5",
    "figures.benefit_this_year_10k": "4210.75",
    "figures.spending_10k": "120",
    "figures.rewards_10k": "45.5",
    "figures.certified_reviewers": "18",
}
TABLE = {
    **FIGURES,
    "enterprises": f"{GOOD_CODE}\n{SAIC}\n",
    "review_forms": ["发表评审", "资料评审"],
    "meeting.held": "yes",
    "meeting.date": "2024-04-18",
    "meeting.place": "浦东新区质量大厦",
    "meeting.entered": "40",
    "meeting.presented": "28",
    "meeting.attendance": "260",
    "contact.person": "陈静",
    "contact.mobile": "13601234567",
}


async def page_session(client: Client, role: Role, scope: str) -> str:
    """An account signed in through the sign-in page (cookie); its CSRF token."""
    with cheap_passwords(client, "saq"):
        login, password = make_account(client, "saq", role, scope)
        signed_in = await post_sign_in(client, login, password)
    assert signed_in.status_code == 303
    home = await client.get("/saq/account")
    found = TOKEN.search(home.text)
    assert found is not None, home.text
    return found.group(1)


async def opened(client: Client) -> str:
    secretariat = await sign_in(client, "saq", Role.SECRETARIAT)
    response = await client.post(f"{SAQ}/campaigns", json=campaign_2024(), headers=secretariat)
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


def beside(text: str, field: str) -> str:
    found = re.search(rf'id="e-{re.escape(field)}">([^<]*)<', text)
    return found.group(1) if found else ""


def shown_rates(text: str) -> dict[str, str]:
    return dict(re.findall(r'<output id="rate-(\w+)"[^>]*>([^<]*)<', text))


def ledger(client: Client) -> Any:
    return client.app.state.platform.tenants["saq"].ledger


async def test_the_table_is_the_seeds_and_the_rates_shown_are_the_apis(anonymous: Client) -> None:
    campaign_id = await opened(anonymous)
    token = await page_session(anonymous, Role.RECOMMENDING_UNIT, "pudong")
    url = f"/saq/units/pudong/campaigns/{campaign_id}/statistics"
    empty = await anonymous.get(url)
    assert empty.status_code == 200, empty.text
    for item in ("企业总数（附清单）", "本年度 QC 小组普及率", "本年度 QC 小组活动率", "浦东新区"):
        assert item in empty.text
    assert "2023年1月至2023年12月" in empty.text
    assert shown_rates(empty.text) == dict.fromkeys(
        ("coverage", "result_rate", "activity_rate"), "—"
    )
    assert ".xlsx" not in empty.text  # nothing to export yet

    saved = await anonymous.post(url, data={**TABLE, "csrf_token": token}, follow_redirects=False)
    assert saved.status_code == 303, saved.text
    page = await anonymous.get(saved.headers["location"])
    assert "统计表已保存" in page.text
    api = await anonymous.get(f"{SAQ}/campaigns/{campaign_id}/units/pudong/statistics")
    assert api.status_code == 200, api.text
    assert (
        shown_rates(page.text)
        == api.json()["rates"]
        == {
            "coverage": "26.25",
            "result_rate": "75.00",
            "activity_rate": "95.24",
        }
    )
    assert api.json()["enterprises"] == [GOOD_CODE, SAIC]
    assert f"{SAQ}/campaigns/{campaign_id}/units/pudong/statistics.xlsx" in page.text
    assert 'value="86500.5"' in page.text and "checked" in page.text
    english = await anonymous.get(url, headers={"accept-language": "en"})
    assert "Coverage this year = participants / employees × 100%" in english.text
    assert tuple(REVIEW_FORM_LABELS) == REVIEW_FORMS  # the domain's forms, each with its words


async def test_each_problem_is_beside_its_item_with_the_input_kept_and_nothing_stored(
    anonymous: Client,
) -> None:
    campaign_id = await opened(anonymous)
    token = await page_session(anonymous, Role.RECOMMENDING_UNIT, "pudong")
    url = f"/saq/units/pudong/campaigns/{campaign_id}/statistics"
    bad = {
        **TABLE,
        "figures.participants": "13000",  # more than the employees
        "figures.spending_10k": "一百",
        "enterprises": f"{GOOD_CODE}\n\n{BAD_CODE}\n{GOOD_CODE}",
        "meeting.presented": "50",
        "csrf_token": token,
    }
    refused = await anonymous.post(url, data=bad)
    assert refused.status_code == 422, refused.text
    assert "参加人数不能多于职工总数" in beside(refused.text, "figures.participants")
    assert "请填写数字" in beside(refused.text, "figures.spending_10k")
    assert "发表数不能多于报名数" in beside(refused.text, "meeting.presented")
    assert "重复" in beside(refused.text, "enterprises")
    line = re.search(r'<li class="error" data-line="3">(.*?)</li>', refused.text, re.S)
    assert line is not None and "校验码应为 X" in line.group(1) and BAD_CODE in line.group(1)
    assert 'value="13000"' in refused.text and 'value="一百"' in refused.text
    assert BAD_CODE in refused.text
    with pytest.raises(StatisticsNotFound):
        ledger(anonymous).get_statistics(campaign_id, "pudong")

    checked = await anonymous.post(
        f"{url}/enterprises",
        data={"enterprises": f"{SAIC}\n{BAD_CODE}"},
        headers={"X-CSRF-Token": token},
    )
    assert checked.status_code == 200
    assert 'data-line="2"' in checked.text and 'data-line="1"' not in checked.text
    english = await anonymous.post(
        f"{url}/enterprises",
        data={"enterprises": BAD_CODE},
        headers={"X-CSRF-Token": token, "accept-language": "en"},
    )
    assert "The check character should be X, not Y" in english.text


async def test_the_work_summary_counts_and_is_refused_beside_its_sections(
    anonymous: Client,
) -> None:
    campaign_id = await opened(anonymous)
    token = await page_session(anonymous, Role.RECOMMENDING_UNIT, "pudong")
    url = f"/saq/units/pudong/campaigns/{campaign_id}/work-summary"
    page = await anonymous.get(url)
    assert page.status_code == 200
    assert (
        "基本情况" in page.text
        and "推进经验和做法" in page.text
        and "存在问题及改进方向" in page.text
    )
    assert "已写 0 字（至少 3000 字）" in page.text

    short = {"section0": "本区全年组织活动。", "section1": "", "section2": "加强培训。"}
    refused = await anonymous.post(url, data={**short, "csrf_token": token})
    assert refused.status_code == 422
    assert "缺少“推进经验和做法”部分" in beside(refused.text, "section1")
    assert "工作总结须 3000 字以上" in beside(refused.text, "text")
    assert "本区全年组织活动。" in refused.text  # kept
    with pytest.raises(WorkSummaryNotFound):
        ledger(anonymous).get_summary(campaign_id, "pudong")

    sections = sections_of(SUMMARY.replace("一、基本情况\n", "一、基本情况\n", 1))
    body = {f"section{i}": text for i, text in enumerate(sections)}
    saved = await anonymous.post(url, data={**body, "csrf_token": token}, follow_redirects=False)
    assert saved.status_code == 303, saved.text
    api = await anonymous.get(f"{SAQ}/campaigns/{campaign_id}/units/pudong/work-summary")
    assert api.json()["text"] == compose(sections)
    again = await anonymous.get(saved.headers["location"])
    assert f"已写 {api.json()['characters']} 字" in again.text and "工作总结已保存" in again.text


@pytest.mark.parametrize(
    ("role", "scope"), [(Role.RECOMMENDING_UNIT, "huangpu"), (Role.APPLICANT_UNIT, ICBC)]
)
async def test_another_unit_and_an_applicant_get_a_404_page_on_each(
    anonymous: Client, role: Role, scope: str
) -> None:
    campaign_id = await opened(anonymous)
    token = await page_session(anonymous, role, scope)
    base = f"/saq/units/pudong/campaigns/{campaign_id}"
    pages = [f"{base}/statistics", f"{base}/work-summary"]
    if role is Role.APPLICANT_UNIT:
        pages.append("/saq/unit-reports")
    for url in pages:
        answer = await anonymous.get(url)
        assert answer.status_code == 404 and "<html" in answer.text, url
    for url, body in (
        (f"{base}/statistics", TABLE),
        (f"{base}/statistics/enterprises", {"enterprises": SAIC}),
        (f"{base}/work-summary", {"section0": "x"}),
    ):
        answer = await anonymous.post(url, data={**body, "csrf_token": token})
        assert answer.status_code == 404, url
    with pytest.raises(StatisticsNotFound):
        ledger(anonymous).get_statistics(campaign_id, "pudong")


async def test_the_unit_finds_its_reports_from_the_navigation(anonymous: Client) -> None:
    campaign_id = await opened(anonymous)
    await page_session(anonymous, Role.RECOMMENDING_UNIT, "pudong")
    home = await anonymous.get("/saq/account")
    assert 'href="/saq/unit-reports"' in home.text
    listed = await anonymous.get("/saq/unit-reports")
    assert listed.status_code == 200
    assert f"/saq/units/pudong/campaigns/{campaign_id}/statistics" in listed.text


async def test_a_team_campaigns_table_has_the_team_items_and_no_rates(anonymous: Client) -> None:
    secretariat = await sign_in(anonymous, "saq", Role.SECRETARIAT)
    response = await anonymous.post(
        f"{SAQ}/campaigns", json=campaign_2024("team"), headers=secretariat
    )
    campaign_id = response.json()["id"]
    token = await page_session(anonymous, Role.RECOMMENDING_UNIT, "pudong")
    url = f"/saq/units/pudong/campaigns/{campaign_id}/statistics"
    page = await anonymous.get(url)
    assert "本年度开展质量信得过班组数" in page.text and "与QC小组合开" in page.text
    assert shown_rates(page.text) == {}
    body = {
        "figures.teams_this_year": "30",
        "figures.teams_all_years": "120",
        "figures.participating_staff": "600",
        "figures.teams_recommended": "31",
        "figures.spending_10k": "12",
        "figures.rewards_10k": "3",
        "enterprises": GOOD_CODE,
        "csrf_token": token,
    }
    refused = await anonymous.post(url, data=body)
    assert "推荐数不能多于本年度开展的班组数" in beside(refused.text, "figures.teams_recommended")
    saved = await anonymous.post(
        url, data={**body, "figures.teams_recommended": "8"}, follow_redirects=False
    )
    assert saved.status_code == 303, saved.text
    table = ledger(anonymous).get_statistics(campaign_id, "pudong")
    assert table.form.figures.teams_recommended == 8 and table.form.enterprises == [GOOD_CODE]


async def test_a_stale_save_is_refused_with_the_input_kept_then_saved_knowingly(
    anonymous: Client,
) -> None:
    campaign_id = await opened(anonymous)
    token = await page_session(anonymous, Role.RECOMMENDING_UNIT, "pudong")
    url = f"/saq/units/pudong/campaigns/{campaign_id}/statistics"
    first = await anonymous.post(url, data={**TABLE, "csrf_token": token, "version": "0"})
    assert first.status_code == 200 and "统计表已保存" in first.text
    mine = {**TABLE, "figures.employees": "13000", "csrf_token": token, "version": "0"}
    stale = await anonymous.post(url, data=mine)
    assert stale.status_code == 409 and "记录已被他人修改" in stale.text
    assert 'value="13000"' in stale.text and 'name="version" value="1"' in stale.text
    assert ledger(anonymous).get_statistics(campaign_id, "pudong").version == 1
    again = await anonymous.post(url, data={**mine, "version": "1"})
    assert again.status_code == 200 and "统计表已保存" in again.text
    assert ledger(anonymous).get_statistics(campaign_id, "pudong").form.figures.employees == 13000
