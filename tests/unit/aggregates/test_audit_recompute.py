"""The audit's recomputation of a campaign's review outcomes from the recorded events: it agrees
with records nobody touched, names each recorded or published value the sheets and rules do not
give, and lists the secretariat's overrides and upheld objections as decisions, not differences."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import date
from decimal import Decimal
from typing import Any
from uuid import UUID, uuid4

from aggregates.actor import Actor, Role
from aggregates.audit_findings import Difference, Recomputation
from aggregates.audit_recompute import recompute
from aggregates.campaign import Campaign
from aggregates.grading import Grading, Standing, rank_and_grade
from aggregates.review_plan import RoundPlan
from aggregates.review_round import ReviewRound
from tests.unit.aggregates.review_support import (
    APPLICANT,
    BY_SCORE,
    GRADES,
    IN_NOTICE,
    NOTICE_OVER,
    ON,
    ROUNDS,
    SEC,
    a_campaign,
    entrant,
    file,
    panelist,
    sid,
    standing,
)

REVIEWERS = ("P01", "P02", "P03")
SHEETS = {
    "2024-001": (95, 94, 93),  # trimmed mean 94: first
    "2024-002": (85, 84, 83),  # 84: second
    "2024-003": (75, 74, 73),  # 74: third
    "2024-004": (65, 64, 63),  # 64: no grade
}
PROFILES = {sid(serial): standing(serial, "0") for serial in SHEETS}
"""What grading reads of each submission besides its scores."""
HEAD = Actor("sec-zhao", Role.SECRETARIAT)
"""The secretariat's head, who resolves objections."""


def standing_of(submission_id: UUID, material: Decimal, presentation: Decimal | None) -> Standing:
    return replace(PROFILES[submission_id], material=material, presentation=presentation)


class Story:
    """A campaign's one material round and its grading, published, every event kept."""

    def __init__(self, decide: Callable[[Campaign, Grading], None] = lambda c, g: None) -> None:
        self.campaign = a_campaign(BY_SCORE)
        review = ReviewRound.open(
            self.campaign, RoundPlan("initial", "初评"), [entrant(s) for s in SHEETS], SEC
        )
        sheets = {}
        for serial, totals in SHEETS.items():
            for reviewer, total in zip(REVIEWERS, totals, strict=True):
                review.assign(sid(serial), panelist(reviewer), ON, SEC)
                sheets[serial, reviewer] = file(review, self.campaign, serial, reviewer, total)
        # A correction: 65, 64, 62 still give 64.
        corrected = sheets["2024-004", "P03"]
        file(review, self.campaign, "2024-004", "P03", 62, corrects=corrected, reason="误填")
        review.aggregate_scores(SEC)
        review.close(SEC)
        self.round = list(review.collect_events())
        standings = [
            standing_of(sid(serial), review.results[str(sid(serial))]["score"], None)
            for serial in SHEETS
        ]
        entries = rank_and_grade(standings, BY_SCORE, GRADES)
        grading = Grading.grade(self.campaign, entries, ROUNDS, SEC)
        decide(self.campaign, grading)
        if grading.notice_closes_at is None:
            grading.open_notice(self.campaign, IN_NOTICE, SEC)
        grading.close_notice(NOTICE_OVER, SEC)
        codes = {str(e["submission_id"]): f"SDAQ-2024-QC-{e['rank']}" for e in grading.graded()}
        grading.issue_certificates(codes, date(2024, 8, 10), SEC)
        self.grading = list(grading.collect_events())

    def recompute(self) -> Recomputation:
        return recompute(BY_SCORE, [self.round], self.grading, standing_of, GRADES)


def altered(events: Sequence[Any], kind: type[Any], change: Callable[[Any], Any]) -> list[Any]:
    """The events, each of that kind changed as `change` says, as if edited in the database."""
    return [replace(e, **change(e)) if isinstance(e, kind) else e for e in events]


def entries_with(event: Any, serial: str, **values: Any) -> dict[str, Any]:
    return {"entries": [({**e, **values} if e["serial"] == serial else e) for e in event.entries]}


def test_records_nobody_touched_are_recomputed_without_a_difference() -> None:
    found = Story().recompute()

    assert found.intact and found.differences == () and found.decisions == ()
    [checked] = found.rounds
    assert (checked.code, checked.rule) == ("initial", "trimmed_mean")
    assert (checked.sheets, checked.counted_sheets, checked.results) == (13, 12, 4)
    assert found.grading is not None
    assert (found.grading.entries, found.grading.published, found.grading.certificates) == (
        4,
        True,
        3,
    )


def test_an_altered_recorded_score_is_named_with_what_the_sheets_give() -> None:
    story = Story()
    a = str(sid("2024-001"))
    story.round = altered(
        story.round,
        ReviewRound.ScoresAggregated,
        lambda e: {"results": {**e.results, a: {**e.results[a], "score": Decimal("96.00")}}},
    )

    found = story.recompute()

    assert not found.intact
    assert found.differences == (
        Difference(
            stage="round",
            round_code="initial",
            submission_id=a,
            serial="2024-001",
            sheet_id=None,
            item="score",
            recorded="96.00",
            recomputed="94.00",
            what_zh="初评：成果 2024-001 得分记录为 96.00，按评分表重算为 94.00",
        ),
    )


def test_a_wrong_recorded_rank_or_grade_is_named_and_so_is_the_grade_published_from_it() -> None:
    story = Story()
    story.grading = altered(
        story.grading, Grading.Graded, lambda e: entries_with(e, "2024-002", grade="first")
    )
    story.grading = altered(
        story.grading, Grading.Graded, lambda e: entries_with(e, "2024-003", rank=1)
    )

    found = story.recompute()

    assert [(d.stage, d.serial, d.item, d.recorded, d.recomputed) for d in found.differences] == [
        ("grading", "2024-002", "grade", "first", "second"),
        ("grading", "2024-003", "rank", "1", "3"),
        ("publication", "2024-002", "published_grade", "first", "second"),
    ]
    assert (
        found.differences[0].what_zh
        == "等级认定：成果 2024-002 等级记录为“一等”，按评审方案重算为“二等”"
    )
    assert found.differences[2].what_zh == (
        "发布：成果 2024-002 发布的等级为“一等”，按重算与记录的决定应为“二等”"
    )


def test_an_override_and_an_upheld_objection_are_listed_as_decisions_not_differences() -> None:
    def decide(campaign: Campaign, grading: Grading) -> None:
        grading.override(campaign, sid("2024-003"), "second", "现场复核，成效显著", SEC)
        grading.open_notice(campaign, IN_NOTICE, SEC)
        upheld, dismissed = uuid4(), uuid4()
        grading.file_objection(upheld, sid("2024-001"), "数据不实", IN_NOTICE, APPLICANT)
        grading.file_objection(dismissed, sid("2024-002"), "课题重复", IN_NOTICE, APPLICANT)
        grading.resolve_objection(
            campaign, upheld, "upheld", "经核查属实，降为二等", True, "second", HEAD
        )
        grading.resolve_objection(
            campaign, dismissed, "dismissed", "课题为新开展", False, None, SEC
        )

    story = Story(decide)

    found = story.recompute()

    assert found.intact
    assert found.grading is not None and found.grading.decisions == 2
    assert [
        (d.kind, d.serial, d.previous, d.grade, d.reason, d.actor_id) for d in found.decisions
    ] == [
        ("override", "2024-003", "third", "second", "现场复核，成效显著", "sec-wang"),
        ("objection", "2024-001", "first", "second", "经核查属实，降为二等", "sec-zhao"),
    ]
    override, objection = found.decisions
    assert override.what_zh == "调整等级：成果 2024-003 由“三等”改为“二等”（现场复核，成效显著）"
    assert objection.what_zh == (
        "异议成立，改变等级：成果 2024-001 由“一等”改为“二等”（经核查属实，降为二等）"
    )
    resolved = next(e for e in story.grading if isinstance(e, Grading.ObjectionResolved))
    assert (objection.at, objection.version) == (resolved.timestamp, resolved.originator_version)


def test_a_missing_certificate_and_one_for_an_ungraded_result_are_named() -> None:
    story = Story()
    first, ungraded = str(sid("2024-001")), str(sid("2024-004"))
    story.grading = altered(
        story.grading,
        Grading.CertificatesIssued,
        lambda e: {
            "certificates": {
                **{k: v for k, v in e.certificates.items() if k != first},
                ungraded: "SDAQ-2024-QC-XXXX",
            }
        },
    )

    found = story.recompute()

    assert [(d.stage, d.serial, d.item, d.recorded, d.recomputed) for d in found.differences] == [
        ("publication", "2024-001", "certificate", None, "须颁发"),
        ("publication", "2024-004", "certificate", "SDAQ-2024-QC-XXXX", None),
    ]
    assert [d.what_zh for d in found.differences] == [
        "发布：成果 2024-001 评为“一等”，发布时却没有证书",
        "发布：成果 2024-004 没有等级，发布时却颁发了证书 SDAQ-2024-QC-XXXX",
    ]
    assert found.grading is not None and found.grading.certificates == 3


def test_a_sheet_total_or_a_mark_the_rubric_does_not_allow_is_named_with_its_reviewer() -> None:
    def edit(e: ReviewRound.SheetFiled) -> dict[str, Any]:
        if e.reviewer == "P01" and e.submission_id == sid("2024-001"):  # 95 recorded as 90
            return {"total": Decimal("90.00")}
        if e.reviewer == "P01" and e.submission_id == sid("2024-002"):  # above the item's 10
            return {"criteria": {**e.criteria, "选题": Decimal(12)}, "total": Decimal("97.00")}
        return {}

    story = Story()
    story.round = altered(story.round, ReviewRound.SheetFiled, edit)

    found = story.recompute()

    assert [(d.serial, d.item, d.recorded, d.recomputed) for d in found.differences] == [
        ("2024-001", "sheet_total", "90.00", "95.00"),
        ("2024-002", "criteria", "12", None),
    ]
    assert [d.what_zh for d in found.differences] == [
        "初评：成果 2024-001 评委 P01 的评分表总分记录为 90.00，按各项评分重算为 95.00",
        "初评：成果 2024-002 评委 P01 的评分表“选题”一项不合评分标准：应在 0 至 10 分之间",
    ]
    assert all(d.sheet_id for d in found.differences)
