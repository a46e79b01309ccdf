"""The recommending unit's reports (推荐通道): the 统计表 for the campaign's period, laid out like the
seed's form, its rates computed as the counts are typed and the enterprise list checked code by
code; and the 工作总结 with its three sections and a live count. The rules are the domain's
(aggregates/statistics_table.py, work_summary.py, credit_code.py); the pages call the same ledger
commands as the API (api/recommending/unit_reports.py) and link to its exports."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any
from uuid import UUID

from litestar import Controller, Request, get, post
from litestar.concurrency import sync_to_thread
from litestar.di import NamedDependency
from litestar.params import FromPath
from litestar.response import Redirect, Template

from aggregates.actor import Actor, Role
from aggregates.campaign import Campaign, Phase, Programme
from aggregates.problems import Problem
from aggregates.statistics_table import (
    StatisticsNotFound,
    StatisticsTable,
    enterprise_list_problems,
)
from aggregates.work_summary import (
    SECTION_NAMES,
    WorkSummary,
    WorkSummaryNotFound,
    counted_characters,
    summary_problems,
)
from api.platform.access import access, not_found, only
from api.platform.records import Records
from api.portal import labels
from api.portal.accounts import in_english
from api.portal.clock import written
from api.portal.forms import FormPage, refuse, version_of
from api.portal.i18n import Speaker
from api.portal.rendering import Page
from api.portal.unit_report_forms import (
    CONTACT,
    MEETING_COUNTS,
    REVIEW_FORM_LABELS,
    SECTION_HEADINGS,
    StatisticsValues,
    compose,
    enterprise_lines,
    items_of,
    rates_of,
    review_forms_of,
    sections_of,
)
from projections.campaign_list import list_campaigns
from projections.service import TenantViews
from tenants.runtime import TenantRuntime

N_ = labels.N_
UNIT_PAGES = only(Role.RECOMMENDING_UNIT, Role.APPLICANT_UNIT)
"""The unit's own pages. An applicant passes the role guard only to meet the record rule
(`Records.unit_name`): no unit is theirs, so each page answers 404, as another unit's does."""
# Page contexts.


def _own(
    records: Records, runtime: TenantRuntime, unit: str, campaign_id: UUID
) -> tuple[str, Campaign]:
    name = records.unit_name(runtime, unit, own=True)  # 404 for another unit, an applicant
    return name, runtime.ledger.get_campaign(campaign_id)


def _window(page: Page, campaign: Campaign) -> dict[str, Any]:
    window = campaign.timeline.get(Phase.RECOMMENDATION)
    open_now = window is not None and window.is_open(page.now) and not campaign.archived
    closes = written(window.closes_at, page.zone, page.speaker) if window else ""
    return {"open_now": open_now, "closes": closes}


def _base(
    page: Page, runtime: TenantRuntime, name: str, unit: str, campaign: Campaign
) -> dict[str, Any]:
    code = runtime.tenant.code
    here = f"/{code}/units/{unit}/campaigns/{campaign.id}"
    api = f"/api/v1/tenants/{code}/campaigns/{campaign.id}/units/{unit}"
    start, end = campaign.period_start, campaign.period_end
    return {
        "campaign": campaign,
        "unit": unit,
        "unit_name": name,
        "programme": labels.programme(page.speaker, campaign.programme),
        "period": page.speaker.gettext("%(a)s年%(b)s月至%(c)s年%(d)s月")
        % {"a": start.year, "b": start.month, "c": end.year, "d": end.month},
        "statistics_href": f"{here}/statistics",
        "summary_href": f"{here}/work-summary",
        "list_href": f"/{code}/unit-reports",
        "exports": {"xlsx": f"{api}/statistics.xlsx", "csv": f"{api}/statistics.csv"},
        **_window(page, campaign),
    }


def _statistics_context(
    page: Page, runtime: TenantRuntime, name: str, unit: str, campaign: Campaign, saved: bool
) -> dict[str, Any]:
    speaker = page.speaker
    return {
        **_base(page, runtime, name, unit, campaign),
        "items": items_of(campaign.programme),
        "rate_formulas": rates_of(campaign.programme),
        "qc": campaign.programme is not Programme.TEAM,
        "review_forms": [
            (f, speaker.gettext(REVIEW_FORM_LABELS[f])) for f in review_forms_of(campaign.programme)
        ],
        "contact_fields": [(k, speaker.gettext(label)) for k, label in CONTACT],
        "meeting_counts": [(k, speaker.gettext(label)) for k, label in MEETING_COUNTS],
        "saved": saved,
    }


def _statistics_fields(values: StatisticsValues | None, lines: int) -> tuple[str, ...]:
    figures = tuple(f"figures.{n}" for n in (values.figures if values else {}))
    return (
        *figures,
        "figures",
        "enterprises",
        *(f"enterprises[{i}]" for i in range(lines)),
        "review_forms",
        "meeting.held",
        "meeting.date",
        "meeting.place",
        *(f"meeting.{n}" for n, _ in MEETING_COUNTS),
        *(f"contact.{k}" for k, _ in CONTACT),
    )


def _table(runtime: TenantRuntime, campaign_id: UUID, unit: str) -> StatisticsTable | None:
    try:
        return runtime.ledger.get_statistics(campaign_id, unit)
    except StatisticsNotFound:
        return None


def _summary(runtime: TenantRuntime, campaign_id: UUID, unit: str) -> WorkSummary | None:
    try:
        return runtime.ledger.get_summary(campaign_id, unit)
    except WorkSummaryNotFound:
        return None


def _summary_context(
    page: Page, runtime: TenantRuntime, name: str, unit: str, campaign: Campaign, saved: bool
) -> dict[str, Any]:
    speaker = page.speaker
    return {
        **_base(page, runtime, name, unit, campaign),
        "sections": [
            (f"section{i}", heading, speaker.gettext(label))
            for i, (heading, label) in enumerate(zip(SECTION_HEADINGS, SECTION_NAMES, strict=True))
        ],
        "min_chars": campaign.rules.work_summary_min_chars,
        "saved": saved,
    }


def _here(runtime: TenantRuntime, unit: str, campaign_id: UUID) -> str:
    return f"/{runtime.tenant.code}/units/{unit}/campaigns/{campaign_id}"


def _statistics_page(
    runtime: TenantRuntime,
    name: str,
    unit: str,
    campaign: Campaign,
    *,
    saved: bool,
    rates: dict[str, Decimal | None],
    lines: list[tuple[int, str]],
    recorded: bool,
    version: int | str,
    **form: Any,
) -> FormPage:
    """The 统计表's page with the rates and the enterprise lines of the values it shows
    (`form`: the values and what a refusal shows, as `FormPage`'s)."""
    return FormPage(
        "unit_reports/statistics.html",
        lambda page: {
            **_statistics_context(page, runtime, name, unit, campaign, saved),
            "rates": _rates_shown(rates),
            "lines": lines,
            "recorded": recorded,
            "version": version,
        },
        **form,
    )


def _summary_page(
    runtime: TenantRuntime,
    name: str,
    unit: str,
    campaign: Campaign,
    *,
    saved: bool,
    sections: list[str],
    version: int | str,
    **form: Any,
) -> FormPage:
    """The 工作总结's page with its sections as shown and their count (`form`: what a refusal
    shows, as `FormPage`'s)."""
    return FormPage(
        "unit_reports/work_summary.html",
        lambda page: {
            **_summary_context(page, runtime, name, unit, campaign, saved),
            "counted": counted_characters(compose(sections)),
            "version": version,
        },
        values={f"section{i}": text for i, text in enumerate(sections)},
        **form,
    )


def _rates_shown(rates: dict[str, Decimal | None]) -> dict[str, str]:
    return {k: "—" if v is None else str(v) for k, v in rates.items()}


class UnitReportPages(Controller):
    path = "/{tenant:str}"
    include_in_schema = False

    @get(
        "/unit-reports",
        operation_id="portalUnitReports",
        sync_to_thread=True,
        opt=access(UNIT_PAGES),
    )
    def reports(
        self,
        request: Request[Any, Any, Any],
        records: NamedDependency[Records],
        runtime: NamedDependency[TenantRuntime],
        views: NamedDependency[TenantViews],
    ) -> Template:
        """The unit's campaigns, each with its 统计表 and 工作总结 and whether they are saved."""
        page = Page(request, runtime.tenant)
        units = sorted(records.units())
        if not units:
            raise not_found("unit")
        code = runtime.tenant.code
        rows = []
        for summary in list_campaigns(views.db("campaign_list")):
            if summary.status == "archived":
                continue
            campaign_id = UUID(summary.campaign_id)
            for unit in units:
                name = records.unit_name(runtime, unit, own=True)
                here = f"/{code}/units/{unit}/campaigns/{campaign_id}"
                rows.append(
                    {
                        "title": summary.title,
                        "programme": labels.programme(page.speaker, summary.programme),
                        "unit_name": name,
                        "statistics": f"{here}/statistics",
                        "summary": f"{here}/work-summary",
                        "statistics_saved": _table(runtime, campaign_id, unit) is not None,
                        "summary_saved": _summary(runtime, campaign_id, unit) is not None,
                    }
                )
        return page.render("unit_reports/index.html", rows=rows)

    @get(
        "/units/{unit:str}/campaigns/{campaign_id:uuid}/statistics",
        operation_id="portalUnitStatistics",
        sync_to_thread=True,
        opt=access(UNIT_PAGES),
    )
    def statistics_page(
        self,
        request: Request[Any, Any, Any],
        unit: FromPath[str],
        campaign_id: FromPath[UUID],
        records: NamedDependency[Records],
        runtime: NamedDependency[TenantRuntime],
    ) -> Template:
        """The 统计表 as saved (or blank), its rates computed from the figures."""
        name, campaign = _own(records, runtime, unit, campaign_id)
        table = _table(runtime, campaign_id, unit)
        values = StatisticsValues.of(campaign.programme, table)
        form = _statistics_page(
            runtime,
            name,
            unit,
            campaign,
            saved=request.query_params.get("saved") == "1" and table is not None,
            rates=table.form.figures.rates()
            if table
            else dict.fromkeys(rates_of(campaign.programme)),
            lines=enterprise_lines(values["enterprises"]),
            recorded=table is not None,
            version=table.version if table else 0,
            values=values,
        )
        return form.show(request, runtime.tenant)

    @post(
        "/units/{unit:str}/campaigns/{campaign_id:uuid}/statistics",
        operation_id="portalRecordUnitStatistics",
        opt=access(UNIT_PAGES),
    )
    async def record_statistics(
        self,
        request: Request[Any, Any, Any],
        unit: FromPath[str],
        campaign_id: FromPath[UUID],
        records: NamedDependency[Records],
        runtime: NamedDependency[TenantRuntime],
        actor: NamedDependency[Actor],
    ) -> Redirect:
        """Saved at the version the form was read at: a stale save (409) shows what is now
        saved as the version, the input kept, to save again over it knowingly."""
        posted = await request.form()
        version = version_of(posted.get("version"))

        def run() -> Redirect:
            name, campaign = _own(records, runtime, unit, campaign_id)
            values = StatisticsValues(posted, campaign.programme)
            lines = enterprise_lines(values.enterprises)
            form = _statistics_page(
                runtime,
                name,
                unit,
                campaign,
                saved=False,
                rates=values.rates(),
                lines=lines,
                recorded=_table(runtime, campaign_id, unit) is not None,
                version="" if version is None else version,
                fields=_statistics_fields(values, len(lines)),
                values=values.shown(),
                on_refusal=lambda page, found: {
                    "line_words": line_words(page.speaker, lines, found),
                    **_now_at(found, lambda: _table(runtime, campaign_id, unit)),
                },
            )
            return form.run(
                request,
                runtime.tenant,
                lambda: runtime.ledger.record_statistics(
                    campaign_id, unit, values.to_form(), actor, version
                ),
                f"{_here(runtime, unit, campaign_id)}/statistics?saved=1",
            )

        return await sync_to_thread(run)

    @post(
        "/units/{unit:str}/campaigns/{campaign_id:uuid}/statistics/enterprises",
        operation_id="portalCheckUnitEnterprises",
        opt=access(UNIT_PAGES),
    )
    async def check_enterprises(
        self,
        request: Request[Any, Any, Any],
        unit: FromPath[str],
        campaign_id: FromPath[UUID],
        records: NamedDependency[Records],
        runtime: NamedDependency[TenantRuntime],
    ) -> Template:
        """htmx: the pasted list checked as typed, each line's problems (the domain's rule)."""
        posted = await request.form()
        text = str(posted.get("enterprises", ""))

        def run() -> Template:
            _own(records, runtime, unit, campaign_id)
            page = Page(request, runtime.tenant)
            lines = enterprise_lines(text)
            found = enterprise_list_problems([code for _, code in lines])
            problems: dict[str, list[str]] = {}
            for problem in found:
                problems.setdefault(problem.field, []).append(labels.problem(page.speaker, problem))
            return page.render(
                "unit_reports/_enterprises.html",
                lines=lines,
                problems=problems,
                line_words=line_words(page.speaker, lines, tuple(found)),
                checked=True,
            )

        return await sync_to_thread(run)

    @get(
        "/units/{unit:str}/campaigns/{campaign_id:uuid}/work-summary",
        operation_id="portalUnitWorkSummary",
        sync_to_thread=True,
        opt=access(UNIT_PAGES),
    )
    def summary_page(
        self,
        request: Request[Any, Any, Any],
        unit: FromPath[str],
        campaign_id: FromPath[UUID],
        records: NamedDependency[Records],
        runtime: NamedDependency[TenantRuntime],
    ) -> Template:
        """The 工作总结 as saved (or blank), in its three sections, with its count."""
        name, campaign = _own(records, runtime, unit, campaign_id)
        summary = _summary(runtime, campaign_id, unit)
        sections = sections_of(summary.text) if summary else ["", "", ""]
        form = _summary_page(
            runtime,
            name,
            unit,
            campaign,
            saved=request.query_params.get("saved") == "1",
            sections=sections,
            version=summary.version if summary else 0,
        )
        return form.show(request, runtime.tenant)

    @post(
        "/units/{unit:str}/campaigns/{campaign_id:uuid}/work-summary",
        operation_id="portalWriteUnitWorkSummary",
        opt=access(UNIT_PAGES),
    )
    async def write_summary(
        self,
        request: Request[Any, Any, Any],
        unit: FromPath[str],
        campaign_id: FromPath[UUID],
        records: NamedDependency[Records],
        runtime: NamedDependency[TenantRuntime],
        actor: NamedDependency[Actor],
    ) -> Redirect:
        """Saved at the version the form was read at (a stale save as the 统计表's); the
        domain's problems each beside the section it names, the length beside the count."""
        posted = await request.form()
        sections = [str(posted.get(f"section{i}", "")) for i in range(len(SECTION_HEADINGS))]
        version = version_of(posted.get("version"))
        text = compose(sections)

        def run() -> Redirect:
            name, campaign = _own(records, runtime, unit, campaign_id)

            def write() -> None:
                found = summary_problems(text, campaign.rules.work_summary_min_chars)
                refuse(_beside_section(p) for p in found)
                runtime.ledger.write_summary(campaign_id, unit, text, actor, version)

            form = _summary_page(
                runtime,
                name,
                unit,
                campaign,
                saved=False,
                sections=sections,
                version="" if version is None else version,
                fields=("text", "section0", "section1", "section2"),
                on_refusal=lambda page, found: {
                    "messages": _summary_words(page.speaker, text, campaign),
                    **_now_at(found, lambda: _summary(runtime, campaign_id, unit)),
                },
            )
            done = f"{_here(runtime, unit, campaign_id)}/work-summary?saved=1"
            return form.run(request, runtime.tenant, write, done)

        return await sync_to_thread(run)


def line_words(
    speaker: Speaker, lines: list[tuple[int, str]], problems: tuple[Problem, ...]
) -> dict[str, list[str]]:
    """In English, each pasted line's problems in words that name its own code (the domain's
    Chinese carries the values; the catalog has them by rule)."""
    if not speaker.english:
        return {}
    found: dict[str, list[str]] = {}
    for problem in problems:
        if not problem.field.startswith("enterprises["):
            continue
        index = int(problem.field[len("enterprises[") : -1])
        code = lines[index][1] if index < len(lines) else ""
        words = in_english(speaker, (problem,), code)
        text = words.get(problem.rule) or labels.problem(speaker, problem)
        found.setdefault(problem.field, []).append(text)
    return found


def _summary_words(speaker: Speaker, text: str, campaign: Campaign) -> dict[str, str]:
    if not speaker.english:
        return {}
    return {
        "min_length": speaker.gettext("工作总结须 %(min)s 字以上，现 %(n)s 字")
        % {"min": campaign.rules.work_summary_min_chars, "n": counted_characters(text)}
    }


def _now_at(
    found: tuple[Problem, ...], current: Callable[[], StatisticsTable | WorkSummary | None]
) -> dict[str, Any]:
    """After a stale save, the form carries the version now saved: the user, who sees their
    input kept and the conflict named, saves again over it knowingly."""
    if not any(p.rule == "stale_version" for p in found):
        return {}
    saved = current()
    return {"version": saved.version if saved else 0}


def _beside_section(problem: Problem) -> Problem:
    if problem.rule == "section_missing":
        for i, name in enumerate(SECTION_NAMES):
            if name in problem.message:
                return Problem(f"section{i}", problem.rule, problem.message)
    return problem
