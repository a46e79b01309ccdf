"""Grading, the public notice and publication in Chromium (issue 20 §6): on a reviewed campaign
(set up through the API) the secretariat grades, overrides a grade (refused without a reason
first), opens the notice; a member of the public objects from the public notice page in a second
browser, confirming the code mailed to them; the secretariat upholds it with a grade change,
closes the notice, publishes and opens a certificate PDF. The figures on the ranking equal the
API's; every page is axe-clean and fits 390 px."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

import pytest
from playwright.sync_api import Browser, Page, expect

from aggregates.actor import Role
from tenants.settings import Settings
from tests.api.conftest import make_account
from tests.api.published_world import (
    PUBLICATION_DAY,
    Client,
    cheap_passwords,
    publish_campaign,
)
from tests.e2e.conftest import OverHttp, in_a_thread, served
from tests.e2e.pages import looks_right, navigate, objects_in_public
from tests.e2e.test_formal_review import signed_in
from tests.support import Clock, beijing

pytestmark = pytest.mark.e2e

SHOTS = Path(os.environ["QCFLOW_SCREENSHOTS"]) if os.environ.get("QCFLOW_SCREENSHOTS") else None


@dataclass
class World:
    url: str
    campaign_id: str
    login: str
    password: str
    clock: Clock
    app: Any


async def _build(client: Client, clock: Clock) -> tuple[str, str, str]:
    """Through the API of the served app: saq's 2024 QC campaign reviewed (its round closed,
    nothing graded), the clock on grading day inside the notice window; a secretariat account to
    sign in with."""
    world = await publish_campaign(
        client, clock, "saq", units=("huangpu", "xuhui"), until="reviewed"
    )
    with cheap_passwords(client, "saq"):
        login, password = make_account(client, "saq", Role.SECRETARIAT)
    return world.campaign_id, login, password


@pytest.fixture(scope="module")
def world(database: str | None, tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    """The app served once: the world is built over its HTTP API (one app start, not one to
    build and another to serve)."""
    settings = Settings(
        database_url=database, data_dir=tmp_path_factory.mktemp("e2e") / "var", pg_pool_size=2
    )
    clock = Clock(beijing(2024, 1, 15, 9, 30))
    with served(settings, clock) as (url, app):

        async def build() -> tuple[str, str, str]:
            async with OverHttp(url, app) as http:
                return await _build(cast(Client, http), clock)

        campaign_id, login, password = in_a_thread(build)
        yield World(url, campaign_id, login, password, clock, app)


def api_grading(page: Page, world: World) -> dict[str, Any]:
    """The API's showGrading, read with the page's own session."""
    response = page.request.get(
        f"{world.url}/api/v1/tenants/saq/campaigns/{world.campaign_id}/grading"
    )
    assert response.ok, response.text()
    found: dict[str, Any] = response.json()
    return found


def test_grading_a_notice_with_a_public_objection_upheld_and_publication(
    world: World, page: Page, playwright_browser: Browser
) -> None:
    signed_in(page, world.url, world.login, world.password)
    page.goto(f"{world.url}/saq/")
    navigate(page, "评审", "等级认定与发布")
    page.locator(f'a[href="/saq/grading/{world.campaign_id}"]').click()
    page.get_by_role("button", name="按评审方案认定等级").click()
    expect(page.locator(".notice")).to_have_text("已按评审方案认定等级。")
    entries = api_grading(page, world)["entries"]
    combined = [c.strip() for c in page.locator("td.combined").all_inner_texts()]
    assert combined == [str(e["combined"]) for e in entries]
    basis = page.locator("td.basis").all_inner_texts()
    assert all(e["basis"] in b for e, b in zip(entries, basis, strict=True))
    looks_right(page, "grading-ranking", SHOTS)

    overrides(page, world, next(e for e in entries if e["grade"] is None))
    page.get_by_role("button", name="开始公示").click()
    expect(page.locator("#grading-status")).to_have_text("公示中")
    objected = next(e for e in entries if e["grade"] is not None)
    objects_in_public(
        playwright_browser, world.url, world.app, "saq", world.campaign_id, objected, SHOTS
    )

    page.reload()
    page.get_by_role("link", name="待处理").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(objected["topic"])
    page.get_by_label("异议成立", exact=True).check()
    page.get_by_label("异议成立，改变等级").check()
    page.get_by_label("改为等级").select_option(label="无等级")
    page.get_by_role("button", name="提交处理结果").click()  # no reason
    expect(page.locator("#e-reason")).to_have_text("请写明处理意见")
    looks_right(page, "grading-objection-refused", SHOTS)
    page.get_by_label("处理意见").fill("经核实，成果数据与企业年报不符，取消等级。")
    page.get_by_role("button", name="提交处理结果").click()
    expect(page.locator(".notice")).to_have_text("已处理异议。")
    expect(page.locator(f"#r-{objected['submission_id']} td.grade")).to_have_text("无等级")
    (objection,) = api_grading(page, world)["objections"]
    assert objection["decision"] == "upheld" and objection["objector"]["name"] == "赵六"

    world.clock.now = beijing(2024, *PUBLICATION_DAY)
    here = page.url.split("?")[0]
    signed_in(page, world.url, world.login, world.password)
    page.goto(here)
    page.get_by_role("button", name="结束公示").click()
    expect(page.locator(".notice")).to_have_text("公示已结束。")
    page.get_by_role("button", name="发布结果并生成证书").click()
    expect(page.locator(".notice")).to_have_text("结果已发布，证书已生成。")
    looks_right(page, "grading-published", SHOTS)
    opens_a_certificate(page, world)


def overrides(page: Page, world: World, entry: dict[str, Any]) -> None:
    """An ungraded result given the lowest grade: refused without a reason, then with one."""
    page.locator(f"#r-{entry['submission_id']} a").click()
    page.get_by_label("等级", exact=True).select_option(index=3)
    page.get_by_role("button", name="调整等级").click()
    expect(page.locator("#e-reason")).to_have_text("调整等级须说明理由")
    looks_right(page, "grading-override-refused", SHOTS)
    page.get_by_label("调整理由（记入审计记录）").fill("经复核，补充的成效证明材料成立。")
    page.get_by_role("button", name="调整等级").click()
    expect(page.locator(".notice")).to_have_text("已调整等级，理由已记录。")
    assert api_grading(page, world)["overrides"] == {
        entry["submission_id"]: "经复核，补充的成效证明材料成立。"
    }


def opens_a_certificate(page: Page, world: World) -> None:
    certificates = api_grading(page, world)["certificates"]
    links = page.locator(".certificates a")
    expect(links).to_have_count(len(certificates))
    href = links.first.get_attribute("href")
    assert href is not None
    response = page.request.get(world.url + href)
    assert response.ok and response.headers["content-type"] == "application/pdf"
    content = response.body()
    assert content.startswith(b"%PDF")
    if SHOTS:
        pdf = SHOTS / "grading-certificate.pdf"
        pdf.write_bytes(content)
        pdftoppm = shutil.which("pdftoppm")
        assert pdftoppm is not None, "poppler-utils' pdftoppm is needed to look at the PDF"
        subprocess.run(
            [pdftoppm, "-png", "-r", "60", "-singlefile", str(pdf), str(SHOTS / "grading-cert")],
            check=True,
        )
