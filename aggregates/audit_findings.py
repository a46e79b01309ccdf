"""What the audit's recomputation finds: the differences between what was recorded or published
and what the recorded sheets and the rules give, the human decisions on the way, and how much was
checked. Told in sentences (Chinese) as well as in fields."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime


@dataclass(frozen=True)
class Difference:
    """Something recorded or published that the recomputation does not reproduce."""

    stage: str
    """round, grading or publication."""
    round_code: str | None
    submission_id: str
    serial: str
    sheet_id: str | None
    item: str
    """sheet_total, criteria, score, counted, excluded, rule, entry, material, presentation,
    combined, rank, grade, published_grade or certificate."""
    recorded: str | None
    recomputed: str | None
    what_zh: str


@dataclass(frozen=True)
class Decision:
    """A recorded human decision on the path from the computed grades to the published ones: not
    recomputable, so shown, not compared."""

    kind: str
    """override (调整等级) or objection (异议成立，改变等级)."""
    submission_id: str
    serial: str
    previous: str | None
    grade: str | None
    reason: str
    actor_id: str
    actor_role: str
    at: datetime
    version: int
    """The grading's version that recorded it."""
    what_zh: str


@dataclass(frozen=True)
class RoundCheck:
    code: str
    name_zh: str
    kind: str
    rule: str
    sheets: int
    """Sheets whose totals and criteria were checked (corrected ones included)."""
    counted_sheets: int
    """The latest sheet of each reviewer for each submission, as of the last aggregation."""
    results: int
    """Submissions whose aggregate was recomputed (none when never aggregated)."""


@dataclass(frozen=True)
class GradingCheck:
    entries: int
    decisions: int
    published: bool
    certificates: int


@dataclass(frozen=True)
class Recomputation:
    rounds: tuple[RoundCheck, ...]
    grading: GradingCheck | None
    """None when the campaign has not been graded yet."""
    decisions: tuple[Decision, ...]
    differences: tuple[Difference, ...]

    @property
    def intact(self) -> bool:
        return not self.differences


@dataclass
class Findings:
    """Differences found at one stage, each told as a sentence that starts with the stage's name."""

    stage: str
    round_code: str | None
    label: str
    serials: Mapping[str, str]
    found: list[Difference] = field(default_factory=list)

    def add(
        self, key: str, item: str, recorded: object, recomputed: object, what: str, sheet: str = ""
    ) -> None:
        serial = self.serials.get(key, key)
        self.found.append(
            Difference(
                stage=self.stage,
                round_code=self.round_code,
                submission_id=key,
                serial=serial,
                sheet_id=sheet or None,
                item=item,
                recorded=None if recorded is None else str(recorded),
                recomputed=None if recomputed is None else str(recomputed),
                what_zh=f"{self.label}：成果 {serial} {what}",
            )
        )
