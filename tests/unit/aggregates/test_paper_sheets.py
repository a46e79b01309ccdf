"""Paper score sheets entered by the secretariat for the judges they name (评审汇总表 import):
every row checked by the same rules as a judge's own sheet, the total as written checked against
the criteria, each row's problems named by its row; the sheets marked as entered by the
secretariat."""

from __future__ import annotations

from decimal import Decimal
from uuid import uuid4

from aggregates.review_plan import ReviewPlan
from aggregates.review_round import PaperSheet, ReviewRound
from tests.unit.aggregates.review_support import (
    IN_MATERIAL,
    SCORE_BANDS,
    SEC,
    a_campaign,
    a_round,
    assign_all,
    entrant,
    marks,
)

S1, S2 = "2024-001", "2024-002"


def paper(
    row: int, serial: str, reviewer: str, total: str, written: str | None = None
) -> PaperSheet:
    criteria = marks(
        {
            "选题": 10,
            "现状调查": 10,
            "设定目标": 10,
            "原因分析": 15,
            "确定主要原因": 15,
            "制定对策": 10,
            "对策实施": 10,
            "效果检查": 10,
            "制定巩固措施与总结": 10,
        },
        total,
    )
    return PaperSheet(row, serial, reviewer, criteria, Decimal(written or total), "条理清楚")


def test_every_row_is_checked_and_each_problem_names_its_row() -> None:
    campaign = a_campaign(ReviewPlan(bands=SCORE_BANDS))
    review_round = assign_all(a_round(campaign, [entrant(S1), entrant(S2)]), ["P01", "P02"])
    rows = [
        paper(4, S1, "P01", "80"),
        paper(5, S1, "P02", "80", written="83"),  # the judge added up wrong
        paper(6, "2024-999", "P01", "70"),  # not in the round
        paper(7, S2, "P09", "70"),  # not assigned
        paper(8, S1, "P01", "75"),  # the same judge twice
    ]

    found = review_round.file_paper_sheets(
        campaign, rows, [uuid4() for _ in rows], IN_MATERIAL, SEC
    )

    assert {(p.field, p.rule) for p in found} == {
        ("rows.5.total", "total_mismatch"),
        ("rows.6.serial", "not_in_round"),
        ("rows.7.reviewer", "not_assigned"),
        ("rows.8.reviewer", "already_filed"),
    }


def test_paper_sheets_are_marked_as_entered_by_the_secretariat() -> None:
    campaign = a_campaign(ReviewPlan(bands=SCORE_BANDS))
    review_round = assign_all(a_round(campaign, [entrant(S1)]), ["P01", "P02"])
    rows = [paper(4, S1, "P01", "80"), paper(5, S1, "P02", "78.5")]

    found = review_round.file_paper_sheets(
        campaign, rows, [uuid4() for _ in rows], IN_MATERIAL, SEC
    )

    assert found == []
    filed = [e for e in review_round.collect_events() if isinstance(e, ReviewRound.SheetFiled)]
    assert [(e.reviewer, e.total, e.actor_role) for e in filed] == [
        ("P01", Decimal("80.00"), "secretariat"),
        ("P02", Decimal("78.50"), "secretariat"),
    ]
    assert {s["entered_by"] for s in review_round.sheets.values()} == {"secretariat"}
