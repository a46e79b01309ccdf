"""Builders the review-domain unit tests share: a campaign with its review plan and phase windows,
entrants, reviewers as the conflict rules see them, rounds and score sheets, standings."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import replace
from datetime import date, datetime
from decimal import Decimal
from uuid import NAMESPACE_URL, UUID, uuid4, uuid5

import pytest

from aggregates.actor import Actor, Role
from aggregates.campaign import Campaign, CampaignRules, Contact, Phase, Programme, Window
from aggregates.credit_code import check_character
from aggregates.grading import Grading, Standing, rank_and_grade
from aggregates.problems import DomainError
from aggregates.review_plan import GradeBand, ReviewPlan, RoundPlan
from aggregates.review_round import Entrant, Panelist, ReviewRound
from tests.support import beijing

SEC = Actor("sec-wang", Role.SECRETARIAT)
APPLICANT = Actor("unit-li", Role.APPLICANT_UNIT)

GRADES = {"first": "一等", "second": "二等", "third": "三等"}
SCORE_BANDS = (
    GradeBand("first", min_score=Decimal(90)),
    GradeBand("second", min_score=Decimal(80)),
    GradeBand("third", min_score=Decimal(70)),
)

# The 2024 campaign's timeline: filing in spring, material review in June, the contest in July,
# the public notice in the first week of August.
PLANNED_AT = beijing(2024, 1, 15, 10)
SUBMISSION = Window(beijing(2024, 2, 1), beijing(2024, 5, 1))
IN_SUBMISSION = beijing(2024, 3, 1, 10)
MATERIAL = Window(beijing(2024, 6, 1), beijing(2024, 7, 1))
IN_MATERIAL = beijing(2024, 6, 15, 10)
PRESENTATION = Window(beijing(2024, 7, 10), beijing(2024, 7, 11))
IN_PRESENTATION = beijing(2024, 7, 10, 9)
NOTICE = Window(beijing(2024, 8, 1), beijing(2024, 8, 8))
IN_NOTICE = beijing(2024, 8, 3, 9)
NOTICE_OVER = beijing(2024, 8, 8)
ON = date(2024, 6, 15)
"""The day reviewers are assigned."""


def timeline(**extra: Window) -> dict[Phase, Window]:
    return {Phase.SUBMISSION: SUBMISSION, **{Phase(k): w for k, w in extra.items()}}


FULL_TIMELINE = timeline(material_review=MATERIAL, presentation=PRESENTATION, public_notice=NOTICE)


def a_campaign(
    plan: ReviewPlan | None = None,
    timeline: Mapping[Phase, Window] = FULL_TIMELINE,
    programme: Programme = Programme.QC_GROUP,
) -> Campaign:
    """The 2024 campaign, saved; with its review plan set in January when one is given."""
    campaign = Campaign.open(
        tenant="sdaq",
        programme=programme,
        year=2024,
        title="2024年质量管理小组活动成果发表",
        document_number="鲁质协〔2024〕3号",
        theme=None,
        co_organisers=[],
        contact=Contact(person="刘老师", phone="0531-86000000"),
        period_start=date(2023, 1, 1),
        period_end=date(2023, 12, 31),
        rules=CampaignRules(),
        timeline=timeline,
        actor=SEC,
    )
    if plan is not None:
        campaign.plan_review(plan, set(GRADES), PLANNED_AT, SEC)
    campaign.collect_events()
    return campaign


def credit_code(n: int) -> str:
    """A valid unified social credit code, one per number."""
    first17 = f"91370000{n:09d}"
    return first17 + check_character(first17)


def sid(serial: str) -> UUID:
    return uuid5(NAMESPACE_URL, f"https://test.qcflow.cn/submission/{serial}")


def entrant(
    serial: str,
    *,
    unit: str | None = None,
    credit: str | None = None,
    recommending: str = "济南市质量协会",
    rubric: str = "problem_solving",
) -> Entrant:
    n = int(serial.rsplit("-", 1)[-1])
    return Entrant(
        submission_id=sid(serial),
        serial=serial,
        title=f"QC小组{n}：降低设备故障率",
        unit_name=unit or f"山东申报单位{n}有限公司",
        credit_code=credit or credit_code(n),
        recommending_unit=recommending,
        rubric=rubric,
    )


def entrants(count: int) -> list[Entrant]:
    return [entrant(f"2024-{i:03d}") for i in range(1, count + 1)]


def panelist(
    cert: str,
    *,
    unit: str = "山东省质量评价协会",
    credit: str | None = None,
    valid_until: date = date(2027, 12, 31),
    retired: bool = False,
    panels: Iterable[str] = (),
    conflicts: Iterable[tuple[str, str, str]] = (),
) -> Panelist:
    return Panelist(
        certificate_number=cert,
        name=f"评委{cert}",
        work_unit=unit,
        work_unit_credit_code=credit,
        valid_until=valid_until,
        retired=retired,
        panels=frozenset(panels),
        conflicts=tuple(conflicts),
    )


def pool(count: int) -> list[Panelist]:
    return [panelist(f"P{i:02d}") for i in range(1, count + 1)]


def a_round(
    campaign: Campaign,
    round_entrants: list[Entrant],
    *,
    code: str = "initial",
    kind: str = "material",
    n: int = 3,
    aggregation: str = "trimmed_mean",
) -> ReviewRound:
    plan = RoundPlan(code, "初评" if kind == "material" else "发表赛", kind, n, aggregation)
    review_round = ReviewRound.open(campaign, plan, round_entrants, SEC)
    review_round.collect_events()
    return review_round


def assign_all(review_round: ReviewRound, reviewers: Iterable[str]) -> ReviewRound:
    """Every entrant assigned by hand to the same reviewers; the events saved."""
    reviewers = list(reviewers)
    for key in review_round.entrants:
        for cert in reviewers:
            review_round.assign(UUID(key), panelist(cert), ON, SEC)
    review_round.collect_events()
    return review_round


def marks(rubric: Mapping[str, int], total: Decimal | str | int) -> dict[str, Decimal]:
    """Criteria of a rubric adding up to the total: full marks, less what is cut from the first ones."""
    left = Decimal(sum(rubric.values())) - Decimal(total)
    criteria = {}
    for name, weight in rubric.items():
        cut = min(Decimal(weight), left)
        criteria[name] = Decimal(weight) - cut
        left -= cut
    return criteria


def file(
    review_round: ReviewRound,
    campaign: Campaign,
    serial: str,
    reviewer: str,
    total: Decimal | str | int,
    *,
    corrects: UUID | None = None,
    reason: str = "",
    at: datetime = IN_MATERIAL,
) -> UUID:
    """The reviewer's sheet for the entrant, with criteria adding up to the total; its id."""
    sheet_id = uuid4()
    rubric = review_round.rubrics[review_round.entrants[str(sid(serial))]["rubric"]]
    review_round.file_sheet(
        campaign,
        sheet_id=sheet_id,
        submission_id=sid(serial),
        reviewer=reviewer,
        criteria=marks(rubric, total),
        comment="选题理由充分，数据翔实。",
        corrects=corrects,
        reason=reason,
        at=at,
        actor=Actor(reviewer, Role.REVIEWER),
    )
    return sheet_id


def standing(
    serial: str,
    material: str,
    presentation: str | None = None,
    *,
    domain: str | None = None,
    has_video: bool = False,
) -> Standing:
    return Standing(
        submission_id=sid(serial),
        serial=serial,
        unit_name=f"申报单位{serial}",
        group_name=f"QC小组{serial}",
        topic="降低设备故障率",
        recommending_unit="济南市质量协会",
        domain=domain,
        material=Decimal(material),
        presentation=None if presentation is None else Decimal(presentation),
        has_video=has_video,
    )


# Grading: A first (it has the video the first grade needs), B second (it took part in the contest
# the second grade needs), C third.

BY_SCORE = ReviewPlan(bands=SCORE_BANDS)
ROUNDS = {"initial": "初评（material，trimmed_mean）"}
VIDEO_PLAN = replace(
    BY_SCORE,
    bands=(
        replace(SCORE_BANDS[0], requires_video=True),
        replace(SCORE_BANDS[1], requires_presentation=True),
        SCORE_BANDS[2],
    ),
)


def graded() -> tuple[Campaign, Grading]:
    campaign = a_campaign(VIDEO_PLAN)
    entries = rank_and_grade(
        [standing("A", "95", "95", has_video=True), standing("B", "85", "85"), standing("C", "75")],
        VIDEO_PLAN,
        GRADES,
    )
    grading = Grading.grade(campaign, entries, ROUNDS, SEC)
    grading.collect_events()
    return campaign, grading


def in_notice() -> tuple[Campaign, Grading]:
    campaign, grading = graded()
    grading.open_notice(campaign, IN_NOTICE, SEC)
    grading.collect_events()
    return campaign, grading


def objected(serial: str = "B") -> tuple[Campaign, Grading, UUID]:
    campaign, grading = in_notice()
    objection_id = uuid4()
    grading.file_objection(objection_id, sid(serial), "该成果数据有误", IN_NOTICE, APPLICANT)
    grading.collect_events()
    return campaign, grading, objection_id


def rules_of(refusal: pytest.ExceptionInfo[DomainError]) -> set[tuple[str, str]]:
    return {(p.field, p.rule) for p in refusal.value.problems}


def messages_of(refusal: pytest.ExceptionInfo[DomainError]) -> str:
    return "；".join(p.message for p in refusal.value.problems)
