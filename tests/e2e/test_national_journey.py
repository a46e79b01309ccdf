"""Issue 21's story in Chromium, on SQLite and PostgreSQL, from the provinces to the national
outcome and back, then the figures and the audit of the same season.

Through the API: Shanghai (saq) and Shandong (sdaq) publish their 2024 QC campaigns, CAQ opens
its national campaign with one place per association. In the browser: saq forwards a result, a
second one is refused over the quota beside that result (its evaluation kept), sdaq forwards its
own; CAQ reads its intake and grants Shanghai an extra place; saq forwards the second result and
withdraws it with a reason, which CAQ's intake shows. CAQ reviews, grades and publishes through
the API; each province reads 全国优秀质量管理小组 with a certificate code that the public page
verifies. saq's statistics pages show the API's figures, and the .xlsx downloaded from them
(read back) the same; the charts draw one mark per group beside their tables. An auditor finds
the forwarded result by its serial, reads its history, sees its state at a past moment, runs the
campaign's recomputation (intact); a sheet altered behind the platform's back shows as a
difference and as the broken link of the hash chain; the audit package downloads. Every page
is axe-clean at 1280 and 390 px."""

from __future__ import annotations

import io
import os
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any, cast
from uuid import UUID

import httpx
import msgspec
import pytest
from openpyxl import load_workbook
from playwright.sync_api import Locator, Page, expect

from aggregates.actor import Role
from aggregates.review_round import ReviewRound
from aggregates.submission import Submission
from api.app import Startup
from tenants.settings import Settings
from tests.api.conftest import make_account
from tests.api.national_world import (
    CAQ,
    NATIONAL_GRADE,
    NATIONAL_PLAN,
    national_campaign,
    publish_national,
)
from tests.api.published_world import (
    ROUND,
    Client,
    Published,
    Secretariat,
    cheap_passwords,
    ok,
    publish_campaign,
)
from tests.e2e.conftest import OverHttp, in_a_thread, served
from tests.e2e.pages import looks_right, reload_until, sign_in
from tests.support import APP_POLL, APPS, Clock, beijing
from tests.tamper import BehindTheBack

pytestmark = pytest.mark.e2e

SHOTS = Path(os.environ["QCFLOW_SCREENSHOTS"]) if os.environ.get("QCFLOW_SCREENSHOTS") else None
FORWARDING_DAY = beijing(2024, 6, 10, 9, 0)
SECOND = "小组活动程序规范，推荐参加全国交流。"
STAGES = ("submissions", "recommended", "formal_passed", "graded", "forwarded", "national_graded")
XLSX = {
    "submissions": "申报数",
    "graded": "获评数",
    "forwarded": "推荐全国",
    "national_graded": "全国获评",
}


@dataclass
class Journey:
    url: str
    clock: Clock
    app: Any
    saq: Published
    sdaq: Published
    national_id: str
    accounts: dict[str, tuple[str, str]]
    """Login and password by who signs in: saq, sdaq, caq (secretariats), auditor (saq's)."""


async def _build(
    settings: Settings, clock: Clock
) -> tuple[Published, Published, str, dict[str, tuple[str, str]]]:
    """Through the API: both provinces' 2024 QC campaigns published, CAQ's national campaign
    opened (one place per association) with its review plan, the accounts that sign in."""
    async with APPS.client(Startup(settings, clock=clock, poll_interval=APP_POLL)) as client:
        saq = await publish_campaign(client, clock, "saq", units=("pudong", "minhang"))
        sdaq = await publish_campaign(client, clock, "sdaq", units=("jinan",), per_unit=1)
        assert len(saq.graded()) >= 2 and sdaq.graded(), (saq, sdaq)
        clock.now = FORWARDING_DAY
        with cheap_passwords(client, "caq"):
            headers = await Secretariat(client, clock, "caq").headers()
        body = national_campaign()
        body["rules"]["recommending_unit_quota"] = 1
        opened = ok(await client.post(f"{CAQ}/campaigns", json=body, headers=headers), 201, "open")
        plan = f"{CAQ}/campaigns/{opened['id']}/review-plan"
        ok(await client.put(plan, json=NATIONAL_PLAN, headers=headers), 200, "national plan")
        accounts = {}
        for who, tenant, role in (
            ("saq", "saq", Role.SECRETARIAT),
            ("sdaq", "sdaq", Role.SECRETARIAT),
            ("caq", "caq", Role.SECRETARIAT),
            ("auditor", "saq", Role.AUDITOR),
        ):
            with cheap_passwords(client, tenant):
                accounts[who] = make_account(client, tenant, role)
    return saq, sdaq, opened["id"], accounts


@pytest.fixture(scope="module")
def journey(database: str | None, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Journey]:
    settings = Settings(
        database_url=database, data_dir=tmp_path_factory.mktemp("e2e") / "var", pg_pool_size=2
    )
    clock = Clock(beijing(2024, 1, 15, 9, 30))
    saq, sdaq, national_id, accounts = in_a_thread(lambda: _build(settings, clock))
    with served(settings, clock) as (url, app):
        yield Journey(url, clock, app, saq, sdaq, national_id, accounts)


def sign_in_as(page: Page, journey: Journey, who: str, tenant: str = "saq") -> None:
    page.context.clear_cookies()
    sign_in(page, journey.url, *journey.accounts[who], tenant=tenant)


def forwarding_page(page: Page, campaign_title: str) -> None:
    page.get_by_role("link", name="推荐全国", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("推荐全国")
    page.get_by_role("link", name=campaign_title).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"推荐全国：{campaign_title}")


def forwards(page: Page, result: dict[str, Any], evaluation: str) -> None:
    card = page.locator("article.candidate", has_text=result["serial"])
    card.get_by_label("推荐意见").fill(evaluation)
    card.get_by_role("button", name="推荐全国").click()


def member_of(page: Page, unit: str) -> Locator:
    """A member association's part of CAQ's intake."""
    return page.locator("article.member", has=page.locator(f"#m-{unit}"))


def campaign_title(journey: Journey, tenant: str) -> str:
    runtime = journey.app.state.platform.tenants[tenant]
    published = journey.saq if tenant == "saq" else journey.sdaq
    return str(runtime.ledger.get_campaign(UUID(published.campaign_id)).title)


def test_provinces_forward_caq_publishes_and_the_season_is_counted_and_audited(
    page: Page, journey: Journey
) -> None:
    the_provinces_forward_one_each_a_second_refused_over_the_quota(page, journey)
    caq_reads_its_intake_and_grants_shanghai_a_place(page, journey)
    saq_forwards_the_second_and_withdraws_it_with_a_reason(page, journey)
    caq_publishes_and_the_provinces_read_it(page, journey)
    the_statistics_are_the_apis(page, journey)
    an_auditor_traces_the_result_and_finds_the_altered_sheet(page, journey)


def the_provinces_forward_one_each_a_second_refused_over_the_quota(
    page: Page, journey: Journey
) -> None:
    first, second = journey.saq.graded()[:2]
    sign_in_as(page, journey, "saq")
    forwarding_page(page, campaign_title(journey, "saq"))
    forwards(page, first, "选题紧扣生产实际，数据翔实，效益显著。")
    expect(page.locator("p.notice")).to_have_text("已推荐全国。")
    expect(page.locator("dd.quota")).to_have_text("已推荐 1 / 1")
    expect(page.locator("p.quota-full")).to_be_visible()
    forwards(page, second, SECOND)
    card = page.locator("article.candidate", has_text=second["serial"])  # beside the result
    expect(card.locator(".error")).to_have_text("全国活动给本协会的推荐名额为 1 项，已用完")
    expect(card.get_by_label("推荐意见")).to_have_value(SECOND)  # the input kept
    expect(page.locator(".alert")).to_have_count(0)  # nothing above the page
    expect(page.locator("article.forward")).to_have_count(1)  # nothing stored
    expect(page.locator("dd.quota")).to_have_text("已推荐 1 / 1")
    looks_right(page, "national-forwarding-refused", SHOTS)

    sign_in_as(page, journey, "sdaq", "sdaq")
    forwarding_page(page, campaign_title(journey, "sdaq"))
    forwards(page, journey.sdaq.graded()[0], "山东推荐：成果创新性强。")
    expect(page.locator("dd.quota")).to_have_text("已推荐 1 / 1")


def caq_reads_its_intake_and_grants_shanghai_a_place(page: Page, journey: Journey) -> None:
    sign_in_as(page, journey, "caq", "caq")
    page.get_by_role("link", name="全国接收", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("全国接收")
    looks_right(page, "national-index-caq", SHOTS)
    page.get_by_role("link", name="2024年全国质量管理小组活动成果推荐").click()
    reload_until(page, page.locator("article.member table.received"), "已接收")
    shanghai_intake = member_of(page, "shanghai")
    for member, result in (
        (shanghai_intake, journey.saq.graded()[0]),
        (member_of(page, "shandong"), journey.sdaq.graded()[0]),
    ):
        expect(member.locator("p.quota")).to_contain_text("已推荐 1 / 1")
        expect(member.locator("table.received tbody tr")).to_have_count(1)
        expect(member.locator("table.received")).to_contain_text(result["title"])
        expect(member.locator("table.received")).to_contain_text(result["unit_name"])
    shanghai_intake.get_by_text("为上海市质量协会增加名额").click()
    shanghai_intake.get_by_label("增加名额", exact=True).fill("1")
    shanghai_intake.get_by_label("增加名额的理由").fill("上海成果数量多，增加一个名额")
    shanghai_intake.get_by_role("button", name="增加名额").click()
    expect(page.locator("p.notice")).to_have_text("已为上海市质量协会增加推荐名额。")
    expect(shanghai_intake.locator("p.quota")).to_contain_text("已推荐 1 / 2")
    looks_right(page, "national-intake", SHOTS)


def saq_forwards_the_second_and_withdraws_it_with_a_reason(page: Page, journey: Journey) -> None:
    second = journey.saq.graded()[1]
    sign_in_as(page, journey, "saq")
    forwarding_page(page, campaign_title(journey, "saq"))
    expect(page.locator("dd.quota")).to_have_text("已推荐 1 / 2")
    forwards(page, second, SECOND)
    expect(page.locator("dd.quota")).to_have_text("已推荐 2 / 2")
    forwarded = page.locator("article.forward", has_text=second["serial"])
    forwarded.get_by_label("撤回的原因").fill("成果效益数据待复核")
    forwarded.get_by_role("button", name="撤回推荐").click()
    expect(page.locator("p.notice")).to_contain_text("已撤回推荐")
    forwarded = page.locator("article.forward", has_text=second["serial"])
    expect(forwarded.locator(".national-status")).to_have_text("已撤回：成果效益数据待复核")
    expect(page.locator("dd.quota")).to_have_text("已推荐 1 / 2")
    # Withdrawn for good: the domain refuses to forward it again, so it is no candidate.
    expect(page.locator("article.candidate", has_text=second["serial"])).to_have_count(0)
    looks_right(page, "national-forwarding", SHOTS)

    sign_in_as(page, journey, "caq", "caq")
    page.goto(f"{journey.url}/caq/national/campaigns/{journey.national_id}/intake")
    reload_until(page, member_of(page, "shanghai"), "已撤回：成果效益数据待复核")


def caq_publishes_and_the_provinces_read_it(page: Page, journey: Journey) -> None:
    async def publish() -> dict[str, str | None]:
        async with OverHttp(journey.url, journey.app) as http:
            client = cast(Client, http)
            national = Secretariat(client, journey.clock, "caq")
            intake = ok(
                await client.get(
                    f"{CAQ}/campaigns/{journey.national_id}/intake",
                    headers=await national.headers(),
                ),
                200,
                "caq reads its intake",
            )
            levels = {
                r["submission_id"]: Decimal("0.95")
                for unit in intake
                for r in unit["received"]
                if r["withdrawn_reason"] is None
            }
            return await publish_national(
                client, journey.clock, national, journey.national_id, levels
            )

    grades = in_a_thread(publish)
    assert set(grades.values()) == {"national_excellent"}, grades

    for who, published in (("saq", journey.saq), ("sdaq", journey.sdaq)):
        sign_in_as(page, journey, who, who)
        forwarding_page(page, campaign_title(journey, who))
        card = page.locator("article.forward", has_text=published.graded()[0]["serial"])
        reload_until(page, card.locator(".national-status"), NATIONAL_GRADE)
        # The national window is over: the page says so and offers nothing to forward.
        expect(page.locator("p.closed")).to_contain_text("2024年全国质量管理小组活动成果推荐")
        expect(page.get_by_role("button", name="推荐全国")).to_have_count(0)
        if who == "saq":  # (sdaq's is the same page)
            looks_right(page, "national-forwarding-graded", SHOTS)
        code = card.locator(".national-status a").inner_text()
        assert code.startswith("CAQ-2024-QC-"), code
        card.get_by_role("link", name=code).click()
        expect(page.get_by_role("heading", level=1)).to_have_text("证书查验")
        expect(page.locator("p.valid")).to_have_text("证书有效")
        expect(page.locator("table.record")).to_contain_text(NATIONAL_GRADE)
        expect(page.locator("table.record")).to_contain_text(code)


def api_figures(journey: Journey, by: str) -> dict[str, Any]:
    """The campaign's figures as the JSON API answers them, to a bearer session of the same
    secretariat account."""
    login, password = journey.accounts["saq"]
    with httpx.Client(base_url=journey.url, timeout=30) as client:
        session = client.post(
            "/api/v1/tenants/saq/session", json={"login": login, "password": password}
        )
        assert session.status_code == 201, session.text
        found = client.get(
            f"/api/v1/tenants/saq/campaigns/{journey.saq.campaign_id}/statistics",
            params={"by": by},
            headers={"Authorization": f"Bearer {session.json()['token']}"},
        )
        assert found.status_code == 200, found.text
        return found.json()  # type: ignore[no-any-return]


def the_statistics_are_the_apis(page: Page, journey: Journey) -> None:
    sign_in_as(page, journey, "saq")
    page.get_by_role("link", name="统计", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("统计")
    overview = page.locator(f'tr[data-campaign="{journey.saq.campaign_id}"]')
    expect(overview).to_be_visible()
    looks_right(page, "statistics-overview", SHOTS)

    overview.get_by_role("link").click()
    page.get_by_label("分组").select_option("recommending_unit")
    page.get_by_role("button", name="查看", exact=True).click()
    assert "by=recommending_unit" in page.url  # the view is its URL
    expect(page.get_by_role("heading", level=2, name="按推荐单位")).to_be_visible()

    found = api_figures(journey, "recommending_unit")
    totals = found["totals"]["figures"]
    # The season as the journey made it: one forward standing (the other withdrawn), graded.
    assert (totals["forwarded"], totals["national_graded"]) == (1, 1), totals
    for stage in STAGES:
        expect(page.locator(f'#totals-table tr[data-stage="{stage}"] td.stat-count')).to_have_text(
            str(totals[stage])
        )
    expect(page.locator("#groups-table tbody tr")).to_have_count(len(found["groups"]))
    for group in found["groups"]:
        row = page.locator(f'#groups-table tr[data-group="{group["key"]}"]')
        expect(row.locator("th")).to_have_text(group["label"])
        for stage in STAGES:
            expect(row.locator(f'td[data-stage="{stage}"]')).to_have_text(
                str(group["figures"][stage])
            )
        rate = group["figures"]["rates"]["grading_rate"]
        rates = page.locator(f'#group-rates-table tr[data-group-rates="{group["key"]}"]')
        expect(rates.locator('td[data-rate="grading_rate"]')).to_have_text(
            "—" if rate is None else f"{rate}%"
        )
    chart = page.locator('figure[data-chart="graded"]')
    expect(chart.locator("svg rect.mark")).to_have_count(len(found["groups"]))
    expect(chart.locator("svg title").first).to_have_text("各组获评数")
    marks = chart.locator("rect.mark > title").evaluate_all("ts => ts.map(t => t.textContent)")
    assert sorted(marks) == sorted(
        f"{g['label']}：{g['figures']['graded']}" for g in found["groups"]
    )
    # Its text alternative: the table beside it, in the same section, which the caption names.
    expect(chart.locator("figcaption")).to_contain_text("（数据见旁边的表格）")
    expect(page.locator("section", has=chart).locator("#groups-table")).to_have_count(1)
    expect(page.locator('figure[data-chart="funnel"] svg rect.mark')).to_have_count(
        page.locator("#totals-table tbody tr").count() - 1  # 撤回数 is no stage of the funnel
    )
    looks_right(page, "statistics-campaign", SHOTS)

    with page.expect_download() as downloaded:
        page.get_by_role("link", name="活动统计（Excel，按推荐单位，全部记录）").click()
    book = load_workbook(io.BytesIO(Path(downloaded.value.path()).read_bytes()))
    sheet = [list(r) for r in book.active.iter_rows(values_only=True)]
    names = {g["label"]: g for g in found["groups"]}
    header = next(r for r in sheet if "申报数" in r)
    for line in sheet:
        if line[0] in names:
            figures = names.pop(line[0])["figures"]
            for stage, column in XLSX.items():
                assert line[header.index(column)] == figures[stage], (line, stage)
    assert not names, f"groups missing from the .xlsx: {list(names)}"

    page.get_by_role("link", name="推荐单位统计表汇总").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("统计表汇总")
    expect(page.locator("ul.missing li").first).to_be_visible()
    looks_right(page, "statistics-rollup", SHOTS)


def alter_a_sheet(journey: Journey) -> tuple[str, int]:
    """Someone with database access lowers one recorded sheet total; its serial and place."""
    tenant = journey.app.state.platform.tenants["saq"]
    round_id = ReviewRound.create_id(UUID(journey.saq.campaign_id), ROUND)
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
        s["serial"] for s in journey.saq.submissions if s["id"] == str(sheet.submission_id)
    )
    return serial, db.position(round_id, sheet.originator_version)


def an_auditor_traces_the_result_and_finds_the_altered_sheet(page: Page, journey: Journey) -> None:
    result = journey.saq.graded()[0]
    sign_in_as(page, journey, "auditor")
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
    # Its history carries the national story: forwarded, then the two outcomes heard back.
    expect(page.locator(".step-item h3", has_text="推荐全国")).to_have_count(1)
    expect(page.locator(".step-item h3", has_text="记录全国评审结果")).to_have_count(2)
    looks_right(page, "audit-history", SHOTS)

    # A past moment: the second after the result was first recorded (to the second, as the
    # picker takes it); the page shows what the ledger replays there.
    first = page.locator(".step-item time").first.get_attribute("datetime")
    assert first is not None
    moment = datetime.fromisoformat(first).replace(microsecond=0) + timedelta(seconds=1)
    page.get_by_label("查看某一时刻的状态").fill(moment.strftime("%Y-%m-%dT%H:%M:%S"))
    page.get_by_role("button", name="查看", exact=True).click()
    ledger = journey.app.state.platform.tenants["saq"].ledger
    replayed = ledger.state_at(UUID(result["id"]), Submission, at=moment)
    expect(page.get_by_role("heading", level=2)).to_have_text(f"第 {replayed.version} 步之后的状态")
    looks_right(page, "audit-state", SHOTS)

    with page.expect_download() as downloaded:
        page.get_by_role("link", name="审计包（PDF）").click()
    assert Path(downloaded.value.path()).read_bytes().startswith(b"%PDF")

    page.get_by_role("navigation", name="位置").get_by_role("link", name="审计").click()
    campaign = page.locator("tr", has_text=campaign_title(journey, "saq"))
    campaign.get_by_role("link", name="重新计算").click()
    expect(page.locator(".verdict")).to_contain_text("一致：")
    looks_right(page, "audit-recomputation", SHOTS)

    serial, place = alter_a_sheet(journey)
    page.reload()
    expect(page.locator(".verdict")).to_contain_text("不一致：发现 1 处差异")
    expect(page.locator("tr.difference")).to_contain_text(serial)
    page.get_by_role("navigation", name="位置").get_by_role("link", name="审计").click()
    page.get_by_role("link", name="核对本协会全部记录的哈希链").click()
    expect(page.locator(".verdict")).to_contain_text("已断开：")
    expect(page.locator("tr.break").first).to_contain_text(str(place))
    expect(page.locator("tr.break").first).to_contain_text("存储后被改动")
    expect(page.locator("tr.break td[data-kind]").first).to_have_attribute("data-kind", "changed")
    looks_right(page, "audit-chain", SHOTS)
