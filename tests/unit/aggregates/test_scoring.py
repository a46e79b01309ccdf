"""Scoring rules: sheets against rubrics, and aggregation with its recorded inputs."""

from __future__ import annotations

from decimal import Decimal

from aggregates.scoring import DEFAULT_RUBRICS, Sheet, aggregate, combine, sheet_problems, total


def sheets(*totals: str, reviewers: tuple[str, ...] = ()) -> list[Sheet]:
    return [
        Sheet(f"s{i}", reviewers[i] if reviewers else f"r{i}", "sub-1", Decimal(t))
        for i, t in enumerate(totals)
    ]


def test_every_default_rubric_totals_100() -> None:
    assert {name: sum(r.values()) for name, r in DEFAULT_RUBRICS.items()} == dict.fromkeys(
        DEFAULT_RUBRICS, 100
    )


def test_a_sheet_must_score_every_criterion_within_its_weight() -> None:
    rubric = DEFAULT_RUBRICS["problem_solving"]
    criteria = {name: Decimal(weight) for name, weight in rubric.items()}
    assert sheet_problems(rubric, criteria) == []
    assert total(criteria) == Decimal("100.00")
    criteria["选题"] = Decimal(11)
    del criteria["效果检查"]
    criteria["印象分"] = Decimal(5)
    rules = {(f, r) for f, r, _ in sheet_problems(rubric, criteria)}
    assert rules == {
        ("criteria.选题", "range"),
        ("criteria.效果检查", "required"),
        ("criteria.印象分", "unknown_criterion"),
    }


def test_the_mean_counts_every_sheet() -> None:
    result = aggregate("mean", sheets("80", "85", "90"))
    assert (result.score, result.counted, result.excluded) == (
        Decimal("85.00"),
        ("s0", "s1", "s2"),
        {},
    )


def test_the_trimmed_mean_drops_the_highest_and_the_lowest_and_says_so() -> None:
    result = aggregate("trimmed_mean", sheets("70", "88", "86", "95", "84"))
    assert result.score == Decimal("86.00")
    assert result.excluded == {"s0": "最低分，去掉", "s3": "最高分，去掉"}
    assert sorted(result.counted) == ["s1", "s2", "s4"]


def test_a_trimmed_mean_of_two_sheets_trims_nothing_and_records_why() -> None:
    result = aggregate("trimmed_mean", sheets("80", "90"))
    assert result.score == Decimal("85.00") and result.rule.startswith("mean")


def test_the_recorded_inputs_reproduce_the_recorded_score() -> None:
    round_sheets = sheets("70", "88", "86", "95", "84")
    result = aggregate("trimmed_mean", round_sheets)
    counted = [s for s in round_sheets if s.sheet_id in result.counted]
    assert aggregate("mean", counted).score == result.score


def test_z_scores_put_a_harsh_and_a_lenient_reviewer_on_one_scale() -> None:
    # The harsh reviewer gives everything 20 points less; normalised, the two agree.
    harsh = [
        Sheet(f"h{i}", "harsh", f"sub-{i}", Decimal(v)) for i, v in enumerate(("60", "70", "80"))
    ]
    lenient = [
        Sheet(f"l{i}", "lenient", f"sub-{i}", Decimal(v)) for i, v in enumerate(("80", "90", "100"))
    ]
    everything = harsh + lenient
    by_harsh = aggregate("zscore", [harsh[0]], everything).score
    by_lenient = aggregate("zscore", [lenient[0]], everything).score
    assert aggregate("mean", [harsh[0]]).score != aggregate("mean", [lenient[0]]).score
    assert by_harsh == by_lenient == Decimal("64.19")  # 80 − 1.2247 × 12.91: the round's scale
    first, last = (
        aggregate("zscore", harsh[:1] + lenient[:1], everything),
        aggregate("zscore", harsh[2:] + lenient[2:], everything),
    )
    assert first.score is not None and last.score is not None and first.score < last.score


def test_the_contest_combines_material_and_presentation_by_weight() -> None:
    assert combine(Decimal("88"), Decimal("92"), Decimal("0.4")) == Decimal("89.60")
