"""The figures of the campaign statistics read model: counted from its rows per campaign, in total
or broken down by recommending unit, key domain, key industry or topic type, with the rates
between the stages and the change against the same programme's campaign a year earlier."""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from aggregates.statistics_table import rate
from projections.store import ViewDatabase

DIMENSIONS = ("recommending_unit", "key_domain", "industry", "topic_type")
"""What figures are broken down by (and filtered on); `industry` is a key industry (重点产业),
several per applicant, so an entry counts under each of its industries."""
REGISTRATION_DIMENSIONS = ("key_domain", "industry")
"""A registration names its domain and industries, not a recommending unit or a topic."""

STAGES = (
    "registrations",
    "submissions",
    "recommended",
    "formal_passed",
    "graded",
    "forwarded",
    "national_graded",
)
RATES = {
    "recommendation_rate": ("recommended", "submissions"),
    "formal_pass_rate": ("formal_passed", "recommended"),
    "grading_rate": ("graded", "formal_passed"),
    "forwarding_rate": ("forwarded", "graded"),
    "national_grading_rate": ("national_graded", "forwarded"),
}
"""Each rate is part / whole × 100% of two counts of the same rows, never an average of rates."""


@dataclass
class Figures:
    """The counts of one campaign (or one group of its entries)."""

    registrations: int | None = 0
    """None where registrations do not apply (by recommending unit or topic type)."""
    submissions: int = 0
    """Filed (numbered) and not withdrawn, received ones included."""
    withdrawn: int = 0
    """Filed, then withdrawn (a draft given up before it was submitted is not counted)."""
    recommended: int = 0
    """On a filed, valid recommendation form, or confirmed through the direct channel; in the
    national tenant, every received result."""
    formal_passed: int = 0
    formal_rejected: int = 0
    graded: int = 0
    grades: dict[str, int] = field(default_factory=dict)
    """Grade code → entries holding it (the grading record's current grade)."""
    forwarded: int = 0
    """Forwarded to the national campaign and not withdrawn."""
    national_passed: int = 0
    """Passed national formal review (graded or not since)."""
    national_rejected: int = 0
    national_graded: int = 0
    national_grades: dict[str, int] = field(default_factory=dict)
    """National grade name → entries holding it."""
    national_not_graded: int = 0

    def rates(self) -> dict[str, Decimal | None]:
        return {
            name: rate(int(getattr(self, part) or 0), int(getattr(self, whole) or 0))
            for name, (part, whole) in RATES.items()
        }

    def count(self, row: Mapping[str, Any], recommended: bool) -> None:
        """One row counted as a funnel: each stage among the rows of the stage before it (a
        result whose form was returned after formal review is not recommended now, so not
        counted as passed either), so that no rate between stages passes 100 %."""
        if row["kind"] == "registration":
            if self.registrations is not None:
                self.registrations += 1
            return
        if not row["filed"]:
            return  # a draft, never submitted (given up or not): not a stage of the funnel
        if row["status"] == "withdrawn":
            self.withdrawn += 1
            return
        self.submissions += 1
        if not recommended:
            return
        self.recommended += 1
        if row["formal_review"] == "passed":
            self.formal_passed += 1
        elif row["formal_review"] == "rejected":
            self.formal_rejected += 1
        if row["formal_review"] != "passed" or row["grade"] is None:
            return
        self.graded += 1
        self.grades[row["grade"]] = self.grades.get(row["grade"], 0) + 1
        national = row["national_status"]
        if national is not None and national != "withdrawn":
            self.forwarded += 1
            self.national_passed += national in ("passed", "graded", "not_graded")
            self.national_rejected += national == "rejected"
            self.national_not_graded += national == "not_graded"
            if national == "graded":
                self.national_graded += 1
                name = row["national_grade_name"] or ""
                self.national_grades[name] = self.national_grades.get(name, 0) + 1


@dataclass(frozen=True)
class Group:
    key: str | None
    """The dimension's value (None: not given); for the totals, None."""
    figures: Figures
    previous: Figures | None
    """The same group in the programme's campaign a year earlier, when there is one."""

    def changes(self) -> dict[str, Decimal | None]:
        """Year over year, per stage: (this − last) / last × 100%."""
        if self.previous is None:
            return {}
        found: dict[str, Decimal | None] = {}
        for stage in STAGES:
            now, then = getattr(self.figures, stage), getattr(self.previous, stage)
            if now is None or then is None:
                continue
            change = rate(now - then, then)
            found[stage] = change
        return found


@dataclass(frozen=True)
class CampaignFigures:
    campaign_id: str
    programme: str
    year: int
    title: str
    published: bool
    previous_campaign_id: str | None
    by: str | None
    totals: Group
    groups: list[Group]


_ENTRY_COLUMNS = (
    "entry_id",
    "kind",
    "recommending_unit",
    "key_domain",
    "topic_type",
    "status",
    "filed",
    "received",
    "formal_review",
    "grade",
    "national_status",
    "national_grade_name",
)


def _campaign(db: ViewDatabase, campaign_id: str) -> dict[str, Any] | None:
    with db.transaction() as tx:
        rows = tx.execute(
            "SELECT campaign_id, programme, year, title, published FROM {stat_campaigns}"
            " WHERE campaign_id = :id",
            {"id": campaign_id},
        )
    if not rows:
        return None
    return dict(
        zip(("campaign_id", "programme", "year", "title", "published"), rows[0], strict=True)
    )


def _entries(db: ViewDatabase, campaign_id: str, industries: bool) -> list[dict[str, Any]]:
    """The campaign's rows, each with whether it counts as recommended and, when `industries`
    (broken down or filtered by key industry), its industries.

    A row holds plain values only (but for its industries, a tuple), so the garbage collector
    does not track it: a campaign's thousands of rows, alive for the request, are not promoted to
    the oldest generation, whose full collections (of the whole process) were the tail of the
    statistics pages and endpoint; and the industries, a thousand more rows, are read only when
    asked for."""
    params = {"campaign": campaign_id}
    with db.transaction() as tx:
        rows = tx.execute(
            f"SELECT {', '.join(_ENTRY_COLUMNS)},"  # noqa: S608 (our columns)
            " received OR entry_id IN ("
            "SELECT e.submission_id FROM {stat_recommended_entries} e"
            " JOIN {stat_recommendations} r ON r.recommendation_id = e.recommendation_id"
            " WHERE r.campaign_id = :campaign AND r.filed AND NOT r.invalid"
            " UNION SELECT submission_id FROM {stat_direct_entries} WHERE campaign_id = :campaign"
            ") FROM {stat_entries} WHERE campaign_id = :campaign",
            params,
        )
        listed = (
            tx.execute(
                "SELECT entry_id, industry FROM {stat_entry_industries}"
                " WHERE campaign_id = :campaign",
                params,
            )
            if industries
            else []
        )
    by_entry: dict[str, list[str]] = {}
    for entry_id, industry in listed:
        by_entry.setdefault(entry_id, []).append(industry)
    entries = []
    for row in rows:
        entry = dict(zip(_ENTRY_COLUMNS, row[:-1], strict=True))
        entry["filed"], entry["received"] = bool(entry["filed"]), bool(entry["received"])
        entry["recommended"] = bool(row[-1])
        if industries:
            entry["industry"] = tuple(sorted(by_entry.get(entry["entry_id"], [])))
        entries.append(entry)
    return entries


def _keys(entry: Mapping[str, Any], by: str) -> Iterable[str | None]:
    value = entry[by]
    if by == "industry":
        return value or (None,)
    return (value,)


def _matches(entry: Mapping[str, Any], filters: Mapping[str, str | None]) -> bool:
    for name, wanted in filters.items():
        if wanted is None:
            continue
        if entry["kind"] == "registration" and name not in REGISTRATION_DIMENSIONS:
            return False
        value = entry[name]
        if (wanted not in value) if name == "industry" else (value != wanted):
            return False
    return True


def _applies_to_registrations(by: str | None, filters: Mapping[str, str | None]) -> bool:
    named = [by] if by else []
    named += [name for name, value in filters.items() if value is not None]
    return all(name in REGISTRATION_DIMENSIONS for name in named)


def _count(
    entries: list[dict[str, Any]], by: str | None, filters: Mapping[str, str | None]
) -> tuple[Figures, dict[str | None, Figures]]:
    with_registrations = _applies_to_registrations(by, filters)

    def empty() -> Figures:
        return Figures(registrations=0 if with_registrations else None)

    totals, groups = empty(), dict[str | None, Figures]()
    for entry in entries:
        if entry["kind"] == "registration" and not with_registrations:
            continue
        if not _matches(entry, filters):
            continue
        totals.count(entry, entry["recommended"])
        if by is not None:
            for key in _keys(entry, by):
                group = groups.get(key)
                if group is None:
                    group = groups[key] = empty()
                group.count(entry, entry["recommended"])
    return totals, groups


def campaign_figures(
    db: ViewDatabase,
    campaign_id: str,
    by: str | None = None,
    filters: Mapping[str, str | None] | None = None,
    entries: Callable[[str, bool], list[dict[str, Any]]] | None = None,
) -> CampaignFigures | None:
    """The campaign's figures (None if the read model does not know it yet). `entries` reads a
    campaign's rows, with their industries or not (by default from `db`; the tenant overview
    reads each campaign once)."""
    read = entries or functools.partial(_entries, db)
    filters = {name: (filters or {}).get(name) for name in DIMENSIONS}
    campaign = _campaign(db, campaign_id)
    if campaign is None:
        return None
    industries = by == "industry" or filters["industry"] is not None
    totals, groups = _count(read(campaign_id, industries), by, filters)
    previous_id = _previous_campaign(db, campaign["programme"], int(campaign["year"]))
    previous_totals: Figures | None = None
    previous_groups: dict[str | None, Figures] = {}
    if previous_id is not None:
        previous_totals, previous_groups = _count(read(previous_id, industries), by, filters)
    ordered = sorted(groups, key=lambda k: (k is None, k or ""))

    def _previous(key: str | None, totals: Figures | None) -> Figures | None:
        if totals is None:
            return None  # no campaign a year earlier
        return previous_groups.get(key) or Figures(
            registrations=None if totals.registrations is None else 0
        )

    return CampaignFigures(
        campaign_id=campaign_id,
        programme=campaign["programme"],
        year=int(campaign["year"]),
        title=campaign["title"],
        published=bool(campaign["published"]),
        previous_campaign_id=previous_id,
        by=by,
        totals=Group(None, totals, previous_totals),
        groups=[Group(key, groups[key], _previous(key, previous_totals)) for key in ordered],
    )


def _previous_campaign(db: ViewDatabase, programme: str, year: int) -> str | None:
    with db.transaction() as tx:
        rows = tx.execute(
            "SELECT campaign_id FROM {stat_campaigns} WHERE programme = :programme"
            " AND year = :year",
            {"programme": programme, "year": year - 1},
        )
    return str(rows[0][0]) if rows else None


def tenant_figures(db: ViewDatabase, programme: str | None = None) -> list[CampaignFigures]:
    """Every campaign of the tenant (of one programme), newest first, with its totals."""
    with db.transaction() as tx:
        rows = tx.execute(
            "SELECT campaign_id FROM {stat_campaigns}"
            " WHERE (:any_programme OR programme = :programme) ORDER BY year DESC, programme",
            {"any_programme": programme is None, "programme": programme or ""},
        )
    # Each campaign is also the year before of the next one: its rows are read once.
    entries = functools.cache(functools.partial(_entries, db))
    found = [campaign_figures(db, str(r[0]), entries=entries) for r in rows]
    return [f for f in found if f is not None]


def filed_recommendations(db: ViewDatabase, campaign_id: str) -> set[str]:
    """The recommending units whose recommendation form (推荐表) of the campaign is filed (a
    returned form is no longer filed; one declared invalid was filed)."""
    with db.transaction() as tx:
        rows = tx.execute(
            "SELECT unit FROM {stat_recommendations}"
            " WHERE campaign_id = :campaign AND (filed OR invalid)",
            {"campaign": campaign_id},
        )
    return {str(r[0]) for r in rows}


def entries_reader(db: ViewDatabase) -> Callable[[str, bool], list[dict[str, Any]]]:
    """A reader of campaigns' rows that reads each campaign once (for several figures of it)."""
    return functools.cache(functools.partial(_entries, db))
