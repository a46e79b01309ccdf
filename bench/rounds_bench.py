"""Server time of a round's score matrix page against the JSON matrix in the same run (issue 20,
"Done when"): a material round of 400 results × 12 reviewers, every cell a filed sheet (some
corrected, some paper sheets entered by the secretariat), the page
`/{tenant}/rounds/{campaign}/{round}/matrix` against `GET …/rounds/{round}/matrix`.

The data are made by the ledger's real commands (on SQLite, in a temporary data directory), as
`portal_bench.py` makes its own; the app is driven in-process through Litestar's test client (the
time of a request is the time the client waits for its answer). Each run asks the page and the
JSON alternately `--requests` times after a warm-up; the p95 of each is reported per run, the
spread over `--runs` runs, and the check: page p95 ≤ 2 × JSON p95 in every run (exit 1 if not).

    PYTHONPATH=. python bench/rounds_bench.py [--results 400] [--reviewers 12] [--runs 3]
        [--data PATH (keep the data there; measure it again)]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
import tempfile
import time
from dataclasses import replace
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any
from uuid import UUID

os.environ.setdefault("AGGREGATE_CACHE_MAXSIZE", "100000")  # the generator's ledger, in memory
os.environ.setdefault("QCFLOW_LOG_LEVEL", "warning")

from litestar.testing import TestClient

from aggregates.account import AccountStatus, Grant
from aggregates.actor import Actor, Role
from aggregates.campaign import CampaignRules, Contact, Phase, Programme
from aggregates.expert import Certificate, ExpertProfile
from aggregates.review_plan import GradeBand, ReviewPlan, RoundPlan
from aggregates.submission import DIRECT_CHANNEL, REQUIRED_ATTACHMENTS
from aggregates.submission_forms import TopicType
from api.app import create_app
from api.demo import season_forms as forms
from api.demo import season_world as w
from api.demo.season import SimulatedTime, business_time
from api.platform.logging import configure_logging
from tenants.runtime import Platform, TenantRuntime
from tenants.settings import Settings

TENANT = "saq"
YEAR = 2025
HOUR = timedelta(hours=1)
LOGIN = "bench-secretariat@example.cn"


def build(runtime: TenantRuntime, results: int, reviewers: int, password: str) -> UUID:
    """The campaign and its round (see the module), through the real commands."""
    ledger, tenant = runtime.ledger, runtime.tenant
    rng = random.Random(f"rounds-bench/{results}/{reviewers}")
    sec = Actor(f"{TENANT}-bench-secretariat", Role.SECRETARIAT)
    applicants = [
        replace(a, unit=DIRECT_CHANNEL) for a in w.population(tenant, (results + 1) // 2, 18)
    ]
    timeline = w.timeline(YEAR, national=False)
    time_ = SimulatedTime(w.beijing(YEAR, 1, 5, 9))
    grades = [g.code for g in tenant.programmes[Programme.QC_GROUP].grades]
    plan = ReviewPlan(
        rounds=(RoundPlan("initial", "初评", reviewers_per_submission=reviewers),),
        bands=tuple(GradeBand(code, Decimal(90 - 10 * i)) for i, code in enumerate(grades)),
    )
    with business_time([ledger], time_):
        campaign = ledger.open_campaign(
            programme=Programme.QC_GROUP,
            year=YEAR,
            title=f"{YEAR}年{tenant.short_name_zh}质量管理小组活动",
            document_number=None,
            theme=None,
            co_organisers=[],
            contact=Contact(tenant.contact.person, tenant.contact.phone),
            period_start=date(YEAR - 1, 1, 1),
            period_end=date(YEAR - 1, 12, 31),
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
        for n in range(1, reviewers + 1):  # none works for an applicant: every cell filled
            number = f"SAQ-QC-BENCH-{n:04d}"
            ledger.enrol_expert(
                ExpertProfile(
                    name=f"评委{n:02d}",
                    work_unit=f"上海质量研究院第{n}研究室",
                    work_unit_credit_code=None,
                    mobile="13900000000",
                    certificate=Certificate(
                        "上海市QC小组评审员", number, tenant.name_zh, "评审员", date(2030, 12, 31)
                    ),
                ),
                sec,
            )
            numbers.append(number)
        ledger.register_account(
            login=LOGIN,
            name="秘书处",
            password=password,
            status=AccountStatus.ACTIVE,
            grants=[Grant(Role.SECRETARIAT)],
            actor=Actor("bench-setup", Role.OPERATOR),
        )

        time_.at(timeline[Phase.SUBMISSION].opens_at + HOUR)  # type: ignore[operator]
        filed: list[UUID] = []
        for applicant in applicants:
            actor = Actor(applicant.account, Role.APPLICANT_UNIT)
            ledger.register_for_campaign(
                cid, applicant.credit_code, w.registration_form(applicant, rng), actor
            )
            for k in range(min(2, results - len(filed))):
                kind = (TopicType.PROBLEM_SOLVING, TopicType.INNOVATIVE)[k % 2]
                submission, _ = ledger.draft_submission(
                    campaign_id=cid,
                    credit_code=applicant.credit_code,
                    applicant=applicant.block,
                    recommending_unit=DIRECT_CHANNEL,
                    form=forms.qc_form(applicant, kind, rng),
                    actor=actor,
                    idempotency_key=f"rounds-bench-{k}",
                )
                for attachment in REQUIRED_ATTACHMENTS[Programme.QC_GROUP]:
                    ledger.add_attachment(
                        submission.id, forms.attachment(attachment, submission.id, rng), actor
                    )
                ledger.submit_submission(submission.id, actor)
                ledger.confirm_direct_channel(submission.id, sec)
                filed.append(submission.id)
            time_.later(1)

        time_.at(timeline[Phase.FORMAL_REVIEW].opens_at + HOUR)  # type: ignore[operator]
        checklist = dict.fromkeys(plan.checklist, True)
        for submission_id in filed:
            ledger.review_formally(submission_id, "pass", checklist, "", [], sec)

        time_.at(timeline[Phase.MATERIAL_REVIEW].opens_at + HOUR)  # type: ignore[operator]
        ledger.open_round(cid, "initial", None, None, sec)
        ledger.assign_automatically(cid, "initial", numbers, sec)
        review_round = ledger.get_round(cid, "initial")
        for i, (key, assigned) in enumerate(review_round.assignments.items()):
            rubric = review_round.rubrics[review_round.entrants[key]["rubric"]]
            level = rng.uniform(0.5, 0.98)
            for j, reviewer in enumerate(assigned):
                criteria = {n: Decimal(round(p * level * 2)) / 2 for n, p in rubric.items()}
                paper = (i + j) % 7 == 0  # some paper sheets, entered by the secretariat
                _, sheet_id = ledger.file_sheet(
                    cid,
                    "initial",
                    submission_id=UUID(key),
                    reviewer=reviewer,
                    criteria=criteria,
                    comment="问题分析透彻，对策有效。",
                    corrects=None,
                    reason="",
                    actor=sec if paper else Actor(f"reviewer-{reviewer}", Role.REVIEWER),
                )
                if (i + j) % 11 == 0:  # and some corrected
                    ledger.file_sheet(
                        cid,
                        "initial",
                        submission_id=UUID(key),
                        reviewer=reviewer,
                        criteria={n: v / 2 for n, v in criteria.items()},
                        comment="",
                        corrects=sheet_id,
                        reason="誊写有误",
                        actor=Actor(f"reviewer-{reviewer}", Role.REVIEWER),
                    )
        ledger.aggregate_round(cid, "initial", sec)
    return cid


def timed(client: TestClient[Any], path: str) -> float:
    start = time.perf_counter()
    client.get(path).raise_for_status()
    return (time.perf_counter() - start) * 1000


def p95(samples: list[float]) -> float:
    return statistics.quantiles(samples, n=20, method="inclusive")[-1]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--results", type=int, default=400)
    parser.add_argument("--reviewers", type=int, default=12)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--requests", type=int, default=30)
    parser.add_argument(
        "--data",
        type=Path,
        default=None,
        help="keep the generated data in this folder, or reuse what an earlier run kept there",
    )
    args = parser.parse_args()
    if args.data is not None:
        args.data.mkdir(parents=True, exist_ok=True)
        return run(args, args.data)
    with tempfile.TemporaryDirectory(prefix="qcflow-rounds-bench-") as folder:
        return run(args, Path(folder))


def run(args: argparse.Namespace, folder: Path) -> int:
    """Make the data in `folder` (or read what an earlier run kept there: its round.json names
    the campaign, its size and the bench account's password), then measure."""
    settings = Settings(data_dir=folder / "var", log_level="warning")
    configure_logging(settings.log_format, settings.log_level)
    kept = folder / "round.json"
    platform = Platform.from_settings(settings)
    started = time.perf_counter()
    try:
        runtime = platform.tenants[TENANT]
        if kept.exists():
            world = json.loads(kept.read_text())
            made = "kept from an earlier run"
        else:
            password = "Bench-" + os.urandom(9).hex()
            cid = build(runtime, args.results, args.reviewers, password)
            world = {
                "campaign_id": str(cid),
                "results": args.results,
                "reviewers": args.reviewers,
                "password": password,  # the scratch account of this folder's data only
            }
            kept.write_text(json.dumps(world))
            made = f"made in {time.perf_counter() - started:.0f} s"
        head = runtime.ledger.recorder.max_notification_id()
    finally:
        platform.close()
    args.results, args.reviewers = world["results"], world["reviewers"]
    print(
        f"data: {args.results} results × {args.reviewers} reviewers, {head} events, {made} (SQLite)"
    )
    os.environ.pop("AGGREGATE_CACHE_MAXSIZE", None)  # the app as `qcflow serve` runs it: no cache
    app = create_app(settings)
    return measure(app, UUID(world["campaign_id"]), world["password"], args)


def measure(app: Any, cid: UUID, password: str, args: argparse.Namespace) -> int:
    page = f"/{TENANT}/rounds/{cid}/initial/matrix"
    json = f"/api/v1/tenants/{TENANT}/campaigns/{cid}/rounds/initial/matrix"
    with TestClient(app) as client:
        signed = client.post(
            f"/api/v1/tenants/{TENANT}/session", json={"login": LOGIN, "password": password}
        )
        signed.raise_for_status()
        deadline = time.monotonic() + 600
        while len(client.get(json).json().get("rows", [])) < args.results:
            if time.monotonic() > deadline:
                raise SystemExit("the read models did not catch up in 10 minutes")
            time.sleep(0.5)
        views = app.state.views
        while any(s.lag for code in views.tenants for s in views.statuses(code)):
            time.sleep(0.5)
        cells = sum(len(r["cells"]) for r in client.get(json).json()["rows"])
        shown = client.get(page)
        shown.raise_for_status()
        print(f"matrix: {cells} cells; page {len(shown.content) // 1024} KiB")
        print(f"{'run':>3} {'page p95 ms':>12} {'JSON p95 ms':>12} {'ratio':>6}")
        ratios = []
        for run in range(1, args.runs + 1):
            pages, jsons = [], []
            for i in range(3 + args.requests):
                took, took_json = timed(client, page), timed(client, json)
                if i >= 3:
                    pages.append(took)
                    jsons.append(took_json)
            ratio = p95(pages) / p95(jsons)
            ratios.append(ratio)
            print(
                f"{run:>3} {p95(pages):>12.1f} {p95(jsons):>12.1f} {ratio:>6.2f}"
                f"   (p50 {statistics.median(pages):.1f} / {statistics.median(jsons):.1f} ms)"
            )
    verdict = "ok" if max(ratios) <= 2 else "FAILED (page p95 > 2 × JSON p95)"
    print(f"page/JSON p95 over {args.runs} runs: {min(ratios):.2f}–{max(ratios):.2f}: {verdict}")
    return 1 if max(ratios) > 2 else 0


if __name__ == "__main__":
    sys.exit(main())
