"""Server time of the portal's heaviest pages against the JSON endpoint serving the same data, in
the same run (issue 18 §5): the public results list of a campaign with 2,000 published results
against GET …/campaigns/{id}/results, 我的申报 of an applicant unit with 300 of them against
every page of GET …/campaigns/{id}/submissions, the secretariat's campaign desk (issue 19)
against GET …/campaigns/{id}/statistics?by=recommending_unit, and the auditor's history page of a
review round of 501 events (issue 21) against GET …/audit/review_round/{id}/history?limit=50,
and the statistics page of the campaign's 2,000 results by recommending unit (issue 21) against
the same JSON figures. Each pair is one row of `PAIRS`; a
page whose route the app does not have yet is reported as skipped, not measured.

The data are made by the ledgers' real commands (on SQLite, in a temporary data directory):
saq's QC campaign of 2025 opened and planned (one material round, one reviewer per result, bands
that grade every result), the results filed and submitted under 40 recommending units
(`--units`), recommended on each unit's filed 推荐表, passed in formal review, scored, graded,
noticed and published; then the read models catch up. The app is
driven in-process through Litestar's test client; the time of a request is the time the client
waits for its answer (no network). Each run asks every pair's page and JSON alternately
`--requests` times after a warm-up; the p95 of each is reported per run, the spread over
`--runs` runs, and the check: page p95 ≤ 2 × JSON p95 in every run (exit status 1 otherwise).

    PYTHONPATH=. python bench/portal_bench.py [--results 2000] [--mine 300] [--units 40] [--runs 3]
        [--data PATH (keep the data there; measure it again)] [--only portalResults,AuditHistory]
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import timedelta
from decimal import Decimal
from functools import partial
from pathlib import Path
from typing import Any
from uuid import UUID

os.environ.setdefault("AGGREGATE_CACHE_MAXSIZE", "100000")  # the generator's ledger, in memory
os.environ.setdefault("QCFLOW_LOG_LEVEL", "warning")

from litestar import Litestar
from litestar.testing import TestClient

from aggregates.actor import Actor, Role
from aggregates.campaign import CampaignRules, Contact, Phase, Programme
from aggregates.ledger.application import AssociationLedger
from aggregates.recommendation import Reviewer
from aggregates.review_plan import GradeBand, ReviewPlan, RoundPlan
from aggregates.review_round import ReviewRound
from aggregates.submission import DIRECT_CHANNEL, REQUIRED_ATTACHMENTS
from aggregates.submission_forms import TopicType
from api.app import create_app
from api.demo import season_forms as forms
from api.demo import season_world as w
from api.demo.season import SimulatedTime, business_time
from api.demo.seeds import demo_accounts, issue_demo_links
from api.platform.logging import configure_logging
from tenants.runtime import Platform, TenantRuntime
from tenants.settings import Settings

TENANT = "saq"
YEAR = 2025
QC = Programme.QC_GROUP
HOUR = timedelta(hours=1)
EXPERTS = 40
ROUND_SIZE = 100
"""Results per material round: a score sheet saves its round, whose size it costs."""
FIRST_ROUND = 249
"""Results in the first material round, whose history is measured (issue 21): opened, 249
reviewers assigned, 249 sheets filed, aggregated and closed is 501 events."""
HISTORY_PAGE = 50
"""Steps per page of the auditor's history page (api/portal/audit.py's PAGE_SIZE)."""


@dataclass(frozen=True)
class World:
    campaign_id: UUID
    results: int
    mine: int
    units: int
    """Recommending units with results."""
    history_id: UUID
    """The review round of about 500 events whose history is measured."""
    history_events: int


@dataclass(frozen=True)
class Pair:
    """A page and the JSON endpoint serving the same data; `who` is the demo role whose signed-in
    browser asks both (None: the page anonymously, the JSON as the secretariat)."""

    name: str
    operation_id: str
    """The page route's operation id: the pair is skipped while the app has no such route."""
    page: Callable[[World], str]
    json: Callable[[World], list[str]]
    """The JSON request(s) that together return the page's data."""
    who: Role | None
    rows: Callable[[World], int]


PAIRS = [
    Pair(
        "公开结果列表 public results (2,000)",
        "portalResults",
        lambda d: f"/{TENANT}/campaigns/{d.campaign_id}/results",
        lambda d: [f"/api/v1/tenants/{TENANT}/campaigns/{d.campaign_id}/results"],
        None,
        lambda d: d.results,
    ),
    Pair(
        "我的申报 my results (300)",
        "portalMyCampaignResults",
        lambda d: f"/{TENANT}/applicant/campaigns/{d.campaign_id}",
        lambda d: [
            f"/api/v1/tenants/{TENANT}/campaigns/{d.campaign_id}/submissions?limit=200",
            f"/api/v1/tenants/{TENANT}/campaigns/{d.campaign_id}/submissions?limit=200&after=*",
        ],
        Role.APPLICANT_UNIT,
        lambda d: d.mine,
    ),
    Pair(
        "活动工作台 campaign desk (40 units)",
        "portalCampaignDesk",
        lambda d: f"/{TENANT}/secretariat/campaigns/{d.campaign_id}",
        lambda d: [
            f"/api/v1/tenants/{TENANT}/campaigns/{d.campaign_id}/statistics?by=recommending_unit"
        ],
        Role.SECRETARIAT,
        lambda d: d.units,
    ),
    Pair(
        "审计历史 history (500 events)",
        "portalAuditHistory",
        lambda d: f"/{TENANT}/audit/review_round/{d.history_id}",
        lambda d: [
            f"/api/v1/tenants/{TENANT}/audit/review_round/{d.history_id}/history"
            f"?limit={HISTORY_PAGE}"
        ],
        Role.AUDITOR,
        lambda d: min(HISTORY_PAGE, d.history_events),
    ),
    Pair(
        "活动统计 statistics page (2,000)",
        "portalCampaignStatistics",
        lambda d: f"/{TENANT}/statistics/campaigns/{d.campaign_id}?by=recommending_unit",
        lambda d: [
            f"/api/v1/tenants/{TENANT}/campaigns/{d.campaign_id}/statistics?by=recommending_unit"
        ],
        Role.SECRETARIAT,
        lambda d: d.units,  # the 2,000 results' figures, one group per unit
    ),
]


def build(
    runtime: TenantRuntime, results: int, mine: int, unit_count: int
) -> tuple[World, w.Applicant]:
    """The campaign (see the module), through the real commands; the applicant filing `mine`."""
    ledger, tenant = runtime.ledger, runtime.tenant
    rng = random.Random(f"portal-bench/{results}/{mine}")
    sec = Actor(f"{TENANT}-bench-secretariat", Role.SECRETARIAT)
    codes = [u.code for u in tenant.recommending_units if u.code != DIRECT_CHANNEL][:unit_count]
    applicants = [
        replace(a, unit=codes[i % len(codes)])
        for i, a in enumerate(w.population(tenant, 1 + (results - mine + 1) // 2, 18))
    ]
    timeline = w.timeline(YEAR, national=False)
    time_ = SimulatedTime(w.beijing(YEAR, 1, 5, 9))
    grades = [g.code for g in tenant.programmes[QC].grades]
    plan = ReviewPlan(
        rounds=tuple(
            RoundPlan(f"g{g:02d}", f"初评第{g}组", reviewers_per_submission=1, aggregation="mean")
            for g in range(1, len(_rounds(results)) + 1)
        ),
        bands=tuple(
            GradeBand(code, Decimal(90 - 10 * i) if i < len(grades) - 1 else Decimal(0))
            for i, code in enumerate(grades)
        ),
    )
    with business_time([ledger], time_):
        contact = tenant.contact
        campaign = ledger.open_campaign(
            programme=QC,
            year=YEAR,
            title=f"{YEAR}年{tenant.short_name_zh}质量管理小组活动",
            document_number=None,
            theme=None,
            co_organisers=[],
            contact=Contact(contact.person, contact.phone),
            period_start=w.beijing(YEAR - 1, 1, 1).date(),
            period_end=w.beijing(YEAR - 1, 12, 31).date(),
            rules=CampaignRules(
                results_per_applicant_min=1,
                results_per_applicant_max=None,
                distinct_topic_types=False,
                recommendations_per_applicant_max=None,
            ),
            timeline=timeline,
            actor=sec,
        ).aggregate
        cid = campaign.id
        ledger.plan_review(cid, plan, set(grades), sec)
        numbers = []
        for n in range(1, EXPERTS + 1):
            profile = w.expert_profile(tenant, n, YEAR, rng, [])
            ledger.enrol_expert(profile, sec)
            numbers.append(profile.certificate.number)

        time_.at(timeline[Phase.SUBMISSION].opens_at + HOUR)  # type: ignore[operator]
        units = {u.code for u in tenant.recommending_units}
        filed: list[UUID] = []
        under: dict[str, list[UUID]] = {}
        for i, applicant in enumerate(applicants):
            actor = Actor(applicant.account, Role.APPLICANT_UNIT)
            ledger.register_for_campaign(
                cid, applicant.credit_code, w.registration_form(applicant, rng), actor
            )
            count = mine if i == 0 else min(2, results - len(filed))
            for k in range(count):
                kind = (TopicType.PROBLEM_SOLVING, TopicType.INNOVATIVE)[k % 2]
                submission, _ = ledger.draft_submission(
                    campaign_id=cid,
                    credit_code=applicant.credit_code,
                    applicant=applicant.block,
                    recommending_unit=applicant.unit,
                    form=forms.qc_form(applicant, kind, rng),
                    actor=actor,
                    idempotency_key=f"portal-bench-{k}",
                )
                for attachment in REQUIRED_ATTACHMENTS[QC]:
                    ledger.add_attachment(
                        submission.id, forms.attachment(attachment, submission.id, rng), actor
                    )
                ledger.submit_submission(submission.id, actor)
                filed.append(submission.id)
                under.setdefault(applicant.unit, []).append(submission.id)
            time_.later(1)

        time_.at(timeline[Phase.RECOMMENDATION].opens_at + HOUR)  # type: ignore[operator]
        for unit, listed in under.items():
            recommend(ledger, cid, unit, listed, rng)

        time_.at(timeline[Phase.FORMAL_REVIEW].opens_at + HOUR)  # type: ignore[operator]
        checklist = dict.fromkeys(campaign.review_plan.checklist or plan.checklist, True)
        for submission_id in filed:
            ledger.review_formally(submission_id, "pass", checklist, "", [], sec)

        time_.at(timeline[Phase.MATERIAL_REVIEW].opens_at + HOUR)  # type: ignore[operator]
        for group, (start, end) in zip(plan.rounds, _rounds(results), strict=True):
            score_round(ledger, cid, group.code, filed[start:end], numbers, units, rng)

        time_.at(timeline[Phase.GRADING].opens_at + HOUR)  # type: ignore[operator]
        ledger.grade_campaign(cid, sec)
        time_.at(timeline[Phase.PUBLIC_NOTICE].opens_at + HOUR)  # type: ignore[operator]
        ledger.open_notice(cid, sec)
        time_.at(timeline[Phase.PUBLICATION].opens_at + HOUR)  # type: ignore[operator]
        ledger.close_notice(cid, sec)
        ledger.publish_results(cid, sec)
    first = ReviewRound.create_id(cid, plan.rounds[0].code)
    events = len(list(ledger.events.get(first)))
    return World(cid, len(filed), mine, len(under), first, events), applicants[0]


def _rounds(results: int) -> list[tuple[int, int]]:
    """Each material round's slice of the filed results: FIRST_ROUND, then ROUND_SIZE each."""
    bounds = [0, min(FIRST_ROUND, results)]
    while bounds[-1] < results:
        bounds.append(min(bounds[-1] + ROUND_SIZE, results))
    return list(itertools.pairwise(bounds))


def recommend(
    ledger: AssociationLedger, cid: UUID, unit: str, listed: list[UUID], rng: random.Random
) -> None:
    """The unit's 推荐表: its reviewer, every result recommended, declared and filed."""
    actor = Actor(f"{TENANT}-unit-{unit}", Role.RECOMMENDING_UNIT)
    number = f"{unit.upper()}-{YEAR}-1"
    reviewer = Reviewer(w.person(rng), f"{unit}质量协会", number, w.mobile(rng), "评审员")
    ledger.add_recommendation_reviewer(cid, unit, reviewer, actor)
    for submission_id in listed:
        score = Decimal(rng.randrange(60, 96))
        ledger.add_recommendation_entry(
            cid, unit, submission_id, score, "问题分析透彻，对策有效。", number, actor
        )
    ledger.declare_recommendation(cid, unit, w.person(rng), w.mobile(rng), actor)
    ledger.file_recommendation(cid, unit, actor)


def score_round(
    ledger: AssociationLedger,
    cid: UUID,
    code: str,
    entrants: list[UUID],
    numbers: list[str],
    units: set[str],
    rng: random.Random,
) -> None:
    """One material round over some of the results: assigned, scored, aggregated, closed."""
    sec = Actor(f"{TENANT}-bench-secretariat", Role.SECRETARIAT)
    ledger.open_round(cid, code, entrants, None, sec)
    ledger.assign_automatically(cid, code, numbers, sec)
    review_round = ledger.get_round(cid, code)
    for key, reviewers in review_round.assignments.items():
        rubric = review_round.rubrics[review_round.entrants[key]["rubric"]]
        level = rng.uniform(0.5, 0.98)
        for reviewer in reviewers:
            criteria = {
                name: Decimal(round(points * level * 2)) / 2 for name, points in rubric.items()
            }
            ledger.file_sheet(
                cid,
                code,
                submission_id=UUID(key),
                reviewer=reviewer,
                criteria=criteria,
                comment="问题分析透彻，对策有效。",
                corrects=None,
                reason="",
                actor=Actor(f"{TENANT}-reviewer-{reviewer}", Role.REVIEWER),
            )
    ledger.aggregate_round(cid, code, sec)
    ledger.close_round(cid, code, sec)


def routes(app: Litestar) -> set[str]:
    return {
        str(handler.operation_id)
        for route in app.routes
        for handler in getattr(route, "route_handlers", [])
        if handler.operation_id
    }


def signed_in(client: TestClient[Any], link: str) -> dict[str, str]:
    """The cookies of a browser that followed the demo link."""
    client.cookies.clear()
    answer = client.get(link.removeprefix("http://127.0.0.1:8000"), follow_redirects=False)
    if answer.status_code != 303:
        raise SystemExit(f"a demo link did not sign in: {answer.status_code}")
    jar = dict(client.cookies)
    client.cookies.clear()
    return jar


def as_(client: TestClient[Any], jar: dict[str, str]) -> TestClient[Any]:
    """The client, as the browser holding `jar` (no cookies: anonymous)."""
    client.cookies.clear()
    client.cookies.update(jar)
    return client


def fetch_json(client: TestClient[Any], paths: list[str]) -> int:
    """Every page of the JSON answer (`after=*` follows the previous page's cursor); rows."""
    rows, after = 0, None
    for template in paths:
        if "after=*" in template and after is None:
            break
        answer = client.get(template.replace("after=*", f"after={after}"))
        answer.raise_for_status()
        body = answer.json()
        items = (body.get("items", body.get("groups")) if isinstance(body, dict) else body) or []
        after = body.get("next_after") if isinstance(body, dict) else None
        rows += len(items)
    return rows


def shown_page(client: TestClient[Any], path: str) -> None:
    client.get(path).raise_for_status()


def timed(call: Callable[[], object]) -> float:
    start = time.perf_counter()
    call()
    return (time.perf_counter() - start) * 1000


def p95(samples: list[float]) -> float:
    return statistics.quantiles(samples, n=20, method="inclusive")[-1]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--results", type=int, default=2000)
    parser.add_argument("--mine", type=int, default=300)
    parser.add_argument("--units", type=int, default=40)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--requests", type=int, default=30)
    parser.add_argument(
        "--data",
        type=Path,
        default=None,
        help="keep the generated data in this folder, or reuse what an earlier run kept there",
    )
    parser.add_argument(
        "--only",
        default="",
        help="measure only the pairs whose page's operation id contains one of these (a,b)",
    )
    args = parser.parse_args()
    if args.data is not None:
        args.data.mkdir(parents=True, exist_ok=True)
        return run(args, args.data)
    with tempfile.TemporaryDirectory(prefix="qcflow-portal-bench-") as folder:
        return run(args, Path(folder))


def run(args: argparse.Namespace, folder: Path) -> int:
    settings = Settings(data_dir=folder / "var", log_level="warning")
    configure_logging(settings.log_format, settings.log_level)
    kept = folder / "world.json"
    platform = Platform.from_settings(settings)
    started = time.perf_counter()
    try:
        runtime = platform.tenants[TENANT]
        if kept.exists():
            world = kept_world(json.loads(kept.read_text()))
            made = "kept from an earlier run"
        else:
            world, applicant = build(runtime, args.results, args.mine, args.units)
            demo_accounts(runtime, YEAR, applicant)
            made = f"made in {time.perf_counter() - started:.0f} s"
            kept.write_text(json.dumps({k: str(v) for k, v in vars(world).items()}))
        nonce = f"portal-bench-{os.getpid()}"
        links = {
            link.role: link.url
            for link in issue_demo_links(platform, nonce, "http://127.0.0.1:8000")
            if link.tenant == TENANT
        }
        head = runtime.ledger.recorder.max_notification_id()
    finally:
        platform.close()
    print(
        f"data: {world.results} results ({world.mine} of one applicant unit), {head} events,"
        f" a review round of {world.history_events} events, {made} (SQLite)"
    )
    os.environ.pop("AGGREGATE_CACHE_MAXSIZE", None)  # the app as `qcflow serve` runs it: no cache
    app = create_app(settings)
    app.state.demo_nonce = nonce
    wanted = args.only.split(",")
    pairs = [p for p in PAIRS if any(w in p.operation_id for w in wanted)]
    return measure(app, world, links, args.runs, args.requests, pairs)


def kept_world(kept: dict[str, str]) -> World:
    """The World an earlier run wrote down."""
    return World(
        campaign_id=UUID(kept["campaign_id"]),
        results=int(kept["results"]),
        mine=int(kept["mine"]),
        units=int(kept["units"]),
        history_id=UUID(kept["history_id"]),
        history_events=int(kept["history_events"]),
    )


def measure(
    app: Litestar, world: World, links: dict[Role, str], runs: int, n: int, pairs: list[Pair]
) -> int:
    known = routes(app)
    failed = False
    with TestClient(app) as client:
        jars = {role: signed_in(client, links[role]) for role in links}
        deadline = time.monotonic() + 600
        while fetch_json(as_(client, jars[Role.SECRETARIAT]), PAIRS[0].json(world)) < world.results:
            if time.monotonic() > deadline:  # the read models catch up in the background
                raise SystemExit("the read models did not catch up in 10 minutes")
            time.sleep(0.5)
        views = app.state.views
        while any(s.lag for code in views.tenants for s in views.statuses(code)):
            time.sleep(0.5)  # every read model, so none competes with the measured requests
        print(f"{'pair':<36} {'run':>3} {'page p95 ms':>12} {'JSON p95 ms':>12} {'ratio':>6}")
        for pair in pairs:
            if pair.operation_id not in known:
                print(f"{pair.name:<36} skipped: the app has no page route {pair.operation_id}")
                continue
            page_jar = {} if pair.who is None else jars[pair.who]
            json_jar = jars[Role.SECRETARIAT if pair.who is None else pair.who]
            page, paths = pair.page(world), pair.json(world)
            as_(client, page_jar).get(page).raise_for_status()
            rows = fetch_json(as_(client, json_jar), paths)
            if rows != pair.rows(world):
                raise SystemExit(f"{pair.name}: the JSON gave {rows} rows, not {pair.rows(world)}")
            ratios = []
            for run in range(1, runs + 1):
                pages, jsons = [], []
                for i in range(3 + n):  # three to warm up, then n measured
                    as_(client, page_jar)
                    took = timed(partial(shown_page, client, page))
                    as_(client, json_jar)
                    took_json = timed(partial(fetch_json, client, paths))
                    if i >= 3:
                        pages.append(took)
                        jsons.append(took_json)
                ratio = p95(pages) / p95(jsons)
                ratios.append(ratio)
                print(
                    f"{pair.name:<36} {run:>3} {p95(pages):>12.1f} {p95(jsons):>12.1f}"
                    f" {ratio:>6.2f}   (p50 {statistics.median(pages):.1f} /"
                    f" {statistics.median(jsons):.1f} ms)"
                )
            spread = f"{min(ratios):.2f}–{max(ratios):.2f}"
            verdict = "ok" if max(ratios) <= 2 else "FAILED (page p95 > 2 × JSON p95)"
            failed |= max(ratios) > 2
            print(f"{pair.name:<36} page/JSON p95 over {runs} runs: {spread}: {verdict}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
