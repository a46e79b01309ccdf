"""The world of the Shandong season (tests/e2e/test_shandong_season.py): sdaq's 44th QC
campaign as Shandong runs it (initial review, then the presentation contest, the grade from
both), its twelve results filed and recommended through the API, the eight reviewers' accounts;
the served season, the figures its people type, and what a reviewer's browser was sent."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any
from uuid import UUID

from playwright.sync_api import BrowserContext, Error, Page, Response

from aggregates.actor import Role
from aggregates.review_round import RoundNotFound
from aggregates.scoring import quantize
from api.app import Startup
from tenants.settings import Settings
from tests.api.conftest import make_account
from tests.api.published_world import (
    Secretariat,
    cheap_passwords,
    criteria,
    file_unit,
    ok,
    quality,
    tenant_config,
)
from tests.api.review_world import window
from tests.e2e import pages
from tests.support import APP_POLL, APPS, Clock

TENANT, YEAR = "sdaq", 2024
API = f"/api/v1/tenants/{TENANT}"
NUMBERS = [f"SDAQ-QC-2024-{n:04d}" for n in range(1, 9)]
ON_PHONES = NUMBERS[0::2]
"""The four reviewers who file their sheets in the browser (the others through the ledger)."""
JUDGES = NUMBERS[2:6]
"""The contest's four judges: none declared a conflict."""
CONTEST_BASE = (86, 91, 80, 88, 76, 83)
"""Each presentation's middle total, in the running order; each judge is off it by OFFSETS."""
OFFSETS = (4, -3, 0, -6)
ON_PHONES_PRESENTATIONS = 2
"""Presentations the judges score on their phone pages; the later ones' sheets are filed through
the ledger as theirs (the control page and the big screen follow all six)."""
UNITS = ("jinan", "qingdao", "yantai")
PER_UNIT = 4
TITLE = "山东省第四十四届群众性质量管理活动（质量管理小组）"
CAMPAIGN = {
    "programme": "qc_group",
    "year": YEAR,
    "title": TITLE,
    "document_number": "鲁质协〔2024〕16号",
    "theme": "数字驱动、创新变革、激发活力",
    "co_organisers": [
        "山东省工业和信息化厅",
        "山东省总工会",
        "山东省妇女联合会",
        "山东省科学技术协会",
        "山东省企业联合会",
    ],
    "contact": {"person": "范文略、刘敬涛", "phone": "0531-88825770"},
    "period_start": "2023-07-01",
    "period_end": "2024-06-30",
    "rules": {
        "results_per_applicant_min": 1,
        "results_per_applicant_max": None,
        "distinct_topic_types": False,
        "recommendations_per_applicant_max": None,
    },
    "timeline": {  # 6月1日前申报，6月5日前推荐，6月初审，然后发表赛（鲁质协〔2024〕16号）
        "registration": window("2024-05-06", "2024-06-01"),
        "submission": window("2024-05-06", "2024-06-01"),
        "recommendation": window("2024-05-06", "2024-06-05"),
        "formal_review": window("2024-06-06", "2024-06-10"),
        "material_review": window("2024-06-11", "2024-06-30"),
        "presentation": window("2024-07-01", "2024-07-20"),
        "public_notice": window("2024-07-22", "2024-07-29"),
        "publication": window("2024-07-30", "2024-08-15"),
    },
}
EXPERTS = ("孙立群", "王建华", "李晓燕", "赵志刚", "刘海涛", "陈玉梅", "张国庆", "周文静")
WEIGHT = Decimal("0.5")
"""The contest's share of the combined score: the seed grades from both (综合认定) and names no
weights; half and half here."""


@dataclass
class Season:
    url: str
    app: Any
    clock: Clock
    campaign_id: str
    results: list[dict[str, Any]]
    """As filed (published_world.file_unit): id, serial, unit, title, credit_code, order, …"""
    accounts: dict[str, tuple[str, str]]
    """Login and password: of "secretariat" and of each reviewer by certificate number."""
    shots: Path | None

    @property
    def ledger(self) -> Any:
        return self.app.state.platform.tenants[TENANT].ledger

    def result(self, submission_id: str) -> dict[str, Any]:
        return next(r for r in self.results if r["id"] == submission_id)

    def api(self, path: str) -> str:
        return f"{self.url}{API}/campaigns/{self.campaign_id}{path}"

    def looks_right(self, page: Page, name: str) -> None:
        """`pages.looks_right` (1280 and 390 px), the page's own size kept (a phone stays one)."""
        size = page.viewport_size
        page.set_viewport_size(pages.DESKTOP)  # a phone's page is checked at 1280 px too
        pages.looks_right(page, f"season-{name}", self.shots)
        if size is not None:
            page.set_viewport_size(size)

    def round(self, code: str) -> Any:
        return self.ledger.get_round(UUID(self.campaign_id), code)


def marker(number: str, round_code: str) -> str:
    """The comment a reviewer writes on each sheet: nobody else may ever be shown it."""
    return f"评语标记·{round_code}·{number}"


def bias(number: str) -> Decimal:
    return Decimal(NUMBERS.index(number) - 4) / 100


def sheet_criteria(s: Season, submission_id: str, number: str) -> dict[str, str]:
    r = s.result(submission_id)
    return criteria(r["topic_type"], quality(r["order"], len(s.results)) + bias(number))


def trimmed(totals: list[Decimal]) -> Decimal:
    """The highest and the lowest dropped, the mean of the rest."""
    middle = sorted(totals)[1:-1]
    return quantize(sum(middle, Decimal(0)) / len(middle))


class Watched:
    """Every response a browser context received, with its body (redirects have none)."""

    def __init__(self, context: BrowserContext) -> None:
        self.bodies: list[tuple[str, str]] = []
        context.on("response", self._keep)

    def _keep(self, response: Response) -> None:
        if 300 <= response.status < 400:
            return
        try:
            body = response.body()
        except Error:  # a request the page abandoned (an htmx poll cut short by navigating)
            return
        self.bodies.append((response.url, body.decode("utf-8", errors="replace")))

    def holds_no_other_sheet(self, s: Season, number: str, sheet_pages: str, at_least: int) -> None:
        """None of the responses names another reviewer, their sheets or their comments; at
        least `at_least` of them were sheet pages (their address holding `sheet_pages`)."""
        others = [n for n in NUMBERS if n != number]
        forbidden = {m for n in others for m in (n, marker(n, "initial"), marker(n, "contest"))}
        for code in ("initial", "contest"):
            try:
                sheets = s.round(code).sheets.values()
            except RoundNotFound:  # the contest not opened yet
                sheets = []
            forbidden |= {str(x["sheet_id"]) for x in sheets if x["reviewer"] != number}
        seen = [url for url, _ in self.bodies if sheet_pages in url]
        assert len(seen) >= at_least, [url for url, _ in self.bodies]
        for url, body in self.bodies:
            found = [f for f in forbidden if f in body]
            assert not found, f"{number} was sent {found} by {url}"


async def build(
    settings: Settings, clock: Clock
) -> tuple[str, list[dict[str, Any]], dict[str, tuple[str, str]]]:
    """Through the API: the campaign opened, 12 results of three cities' applicants filed and
    recommended (each city's form filed); accounts for the secretariat and the eight reviewers."""
    async with APPS.client(Startup(settings, clock=clock, poll_interval=APP_POLL)) as client:
        with cheap_passwords(client, TENANT):
            config = tenant_config(client, TENANT)
            secretariat = Secretariat(client, clock, TENANT)
            opened = ok(
                await client.post(
                    f"{API}/campaigns", json=CAMPAIGN, headers=await secretariat.headers()
                ),
                201,
                "open the campaign",
            )
            filed = [
                s
                for u, unit in enumerate(UNITS)
                for s in await file_unit(
                    client, config, opened["id"], unit, u, len(UNITS), PER_UNIT, YEAR
                )
            ]
            accounts = {"secretariat": (secretariat.login, secretariat.password)}
            for number in NUMBERS:
                accounts[number] = make_account(client, TENANT, Role.REVIEWER, number)
    return opened["id"], filed, accounts
