"""The reviewer pool (评审专家库) in the browser: the list with each certificate's validity
(expiring within 90 days flagged) and declared conflicts; enrol, change, retire, declare a
conflict; import a pool from its .xlsx template, every row's problems listed and nothing stored
when one is wrong. The same commands and reads as `api/review/routes.py`'s ExpertController."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from datetime import date, timedelta
from typing import Annotated, Any

from litestar import Controller, Request, Response, get, post
from litestar.concurrency import sync_to_thread
from litestar.datastructures import UploadFile
from litestar.di import NamedDependency
from litestar.params import FromPath, QueryParameter
from litestar.response import Redirect, Template

from aggregates.actor import Actor, Role
from aggregates.expert import CONFLICT_KINDS, Certificate, Expert, ExpertProfile, InvalidExpert
from aggregates.problems import Problem
from api.platform.access import access, only
from api.platform.errors import RequestProblem
from api.platform.exports import XLSX, download
from api.portal import labels
from api.portal.forms import FormPage, said, stripped
from api.portal.labels import N_
from api.portal.rendering import Page
from api.review.expert_import import COLUMNS, MAX_BYTES, import_pool, template
from api.review.routes import fresh
from projections.review_board import list_experts
from projections.service import TenantViews
from tenants.runtime import TenantRuntime

SECRETARIAT = only(Role.SECRETARIAT)
EXPIRY_WARNING = timedelta(days=90)
PROFILE_FIELDS = (
    "name",
    "work_unit",
    "work_unit_credit_code",
    "mobile",
    "certificate.kind",
    "certificate.number",
    "certificate.issuing_body",
    "certificate.level",
    "certificate.valid_until",
)
CONFLICT_FIELDS = ("kind", "value", "reason")
FORM_FIELDS = {"profile": PROFILE_FIELDS, "conflicts": CONFLICT_FIELDS, "retire": ("reason",)}
"""The fields beside which each of an expert's forms shows its problems."""
KIND_WORDS = {
    "applicant": N_("申报单位（统一社会信用代码）"),
    "recommending_unit": N_("推荐单位（代码）"),
    "submission": N_("申报成果（编号）"),
}
DONE = {
    "enrolled": N_("已录入专家库。"),
    "changed": N_("已保存。"),
    "retired": N_("已退出专家库。"),
    "conflict": N_("已登记回避。"),
}


def profile_of(values: dict[str, str]) -> ExpertProfile:
    """The profile the form describes (a date that is not one: refused beside its field)."""
    try:
        until = date.fromisoformat(values["certificate.valid_until"])
    except ValueError:
        raise InvalidExpert(
            Problem("certificate.valid_until", "date_format", "有效期应为日期，如 2026-12-31")
        ) from None
    return ExpertProfile(
        name=values["name"],
        work_unit=values["work_unit"],
        work_unit_credit_code=values["work_unit_credit_code"] or None,
        mobile=values["mobile"],
        certificate=Certificate(
            values["certificate.kind"],
            values["certificate.number"],
            values["certificate.issuing_body"],
            values["certificate.level"],
            until,
        ),
    )


def expert_values(expert: Expert) -> dict[str, str]:
    p, c = expert.profile, expert.profile["certificate"]
    return {
        "name": p["name"],
        "work_unit": p["work_unit"],
        "work_unit_credit_code": p["work_unit_credit_code"] or "",
        "mobile": p["mobile"],
        "certificate.kind": c["kind"],
        "certificate.number": c["number"],
        "certificate.issuing_body": c["issuing_body"],
        "certificate.level": c["level"],
        "certificate.valid_until": str(c["valid_until"]),
    }


def validity(valid_until: str, today: date) -> str:
    """expired, expiring (within 90 days) or valid."""
    try:
        until = date.fromisoformat(valid_until[:10])
    except ValueError:
        return "valid"
    if until < today:
        return "expired"
    return "expiring" if until <= today + EXPIRY_WARNING else "valid"


def shown_conflicts(page: Page, conflicts: Iterable[Mapping[str, str]]) -> list[dict[str, str]]:
    """Declared conflicts as a page shows them: the kind in the reader's language, and a
    recommending unit by its name beside the code the record keeps."""
    units = {u.code: u.name_zh for u in page.tenant.recommending_units} if page.tenant else {}
    return [
        {
            **c,
            "kind_text": page.speaker.gettext(KIND_WORDS.get(c["kind"], c["kind"])),
            "name": units.get(c["value"], "") if c["kind"] == "recommending_unit" else "",
        }
        for c in conflicts
    ]


def expert_context(page: Page, expert: Expert) -> dict[str, Any]:
    """One expert's page: the certificate's validity, the conflicts declared, the kinds."""
    today = page.now.astimezone(page.zone).date()
    return {
        "expert": {
            "number": expert.certificate_number,
            "name": expert.name,
            "retired": expert.retired_reason,
            "conflicts": shown_conflicts(page, expert.conflicts),
            "validity": validity(str(expert.profile["certificate"]["valid_until"]), today),
        },
        "kinds": [(k, page.speaker.gettext(KIND_WORDS[k])) for k in CONFLICT_KINDS],
        "fields": PROFILE_FIELDS,
    }


def expert_page(expert: Expert, flag: str = "", acting: str = "", **form: Any) -> FormPage:
    """One expert's page (after the `flag` of what was done), where its profile is changed, a
    conflict declared or the expert retired (`acting`: which form a refusal shows again)."""
    return FormPage(
        "review/expert.html",
        lambda page: {
            **expert_context(page, expert),
            "done": said(page, DONE, flag),
            "acting": acting,
        },
        **form,
    )


ExpertCommand = Callable[[TenantRuntime, str, dict[str, str], Actor], object]


def _expert_form(path: str, operation_id: str, done: str, command: ExpertCommand) -> Any:
    """One of an expert's forms, posted to `…/{certificate_number}/{path}`: its command run
    with the form's values; refused, the expert's page with that form's input kept (the
    profile's, or the conflict's and the reason beside the profile as it is)."""

    @post(f"/{{certificate_number:str}}/{path}", operation_id=operation_id, opt=access(SECRETARIAT))
    async def posted_form(
        self: Any,
        request: Request[Any, Any, Any],
        certificate_number: FromPath[str],
        runtime: NamedDependency[TenantRuntime],
        actor: NamedDependency[Actor],
    ) -> Redirect:
        posted = stripped(await request.form(), *PROFILE_FIELDS, *CONFLICT_FIELDS)

        def run() -> Redirect:
            expert = runtime.ledger.get_expert(certificate_number)  # 404 before the form
            values = (
                posted
                if path == "profile"
                else {**expert_values(expert), **{k: posted[k] for k in CONFLICT_FIELDS}}
            )
            form = expert_page(expert, acting=path, fields=FORM_FIELDS[path], values=values)
            return form.run(
                request,
                runtime.tenant,
                lambda: command(runtime, certificate_number, posted, actor),
                f"/{runtime.tenant.code}/review/experts/{certificate_number}?done={done}",
            )

        return await sync_to_thread(run)

    return posted_form


def _change_profile(
    runtime: TenantRuntime, number: str, posted: dict[str, str], actor: Actor
) -> None:
    runtime.ledger.change_expert(number, profile_of(posted), actor)


def _declare_conflict(
    runtime: TenantRuntime, number: str, posted: dict[str, str], actor: Actor
) -> None:
    runtime.ledger.declare_conflict(
        number, posted["kind"], posted["value"], posted["reason"], actor
    )


def _retire(runtime: TenantRuntime, number: str, posted: dict[str, str], actor: Actor) -> None:
    runtime.ledger.retire_expert(number, posted["reason"], actor)


class ExpertPoolPages(Controller):
    path = "/{tenant:str}/review/experts"
    include_in_schema = False

    def _list(self, page: Page, views: TenantViews) -> dict[str, Any]:
        fresh(views)
        today = page.now.astimezone(page.zone).date()
        ledger = views.runtime.ledger
        experts = [
            {
                **{f: getattr(e, f) for f in e.__struct_fields__},
                "validity": validity(e.valid_until, today),
                # The few with conflicts: each one's facts from its own record.
                "declared": shown_conflicts(
                    page, ledger.get_expert(e.certificate_number).conflicts if e.conflicts else []
                ),
            }
            for e in list_experts(views.db("review_board"))
        ]
        return {
            "experts": experts,
            "columns": [heading for _, heading in COLUMNS],
            "row_problems": [],
            "fields": PROFILE_FIELDS,
        }

    def _pool_page(self, views: TenantViews, flag: str = "", **form: Any) -> FormPage:
        """The pool's page (after the `flag` of what was done), where an expert is enrolled or
        a pool imported (`form`: as `FormPage`'s)."""
        return FormPage(
            "review/experts.html",
            lambda page: {**self._list(page, views), "done": said(page, DONE, flag), "imported": 0},
            **form,
        )

    @get("/", operation_id="portalExpertPool", sync_to_thread=True, opt=access(SECRETARIAT))
    def pool(
        self,
        request: Request[Any, Any, Any],
        views: NamedDependency[TenantViews],
        done: Annotated[str, QueryParameter(max_length=10)] = "",
        imported: Annotated[int, QueryParameter(ge=0, le=5000)] = 0,
    ) -> Template:
        """The pool: each expert's certificate and its validity, conflicts; enrol, import."""
        form = self._pool_page(views, flag=done)
        return form.show(request, views.runtime.tenant, imported=imported)

    @get(
        "/template.xlsx",
        operation_id="portalExpertTemplate",
        sync_to_thread=True,
        opt=access(SECRETARIAT),
    )
    def template_file(self) -> Response[bytes]:
        """The pool's .xlsx import template."""
        return download(template(), XLSX, "评审专家库导入表.xlsx")

    @post("/", operation_id="portalEnrolExpert", opt=access(SECRETARIAT))
    async def enrol(
        self,
        request: Request[Any, Any, Any],
        views: NamedDependency[TenantViews],
        actor: NamedDependency[Actor],
    ) -> Redirect:
        """An expert enrolled with the certificate's facts (each problem beside its field)."""
        values = stripped(await request.form(), *PROFILE_FIELDS)
        form = self._pool_page(views, fields=PROFILE_FIELDS, values=values)
        return await form.submit(
            request,
            views.runtime.tenant,
            lambda: views.runtime.ledger.enrol_expert(profile_of(values), actor),
            f"/{views.runtime.tenant.code}/review/experts?done=enrolled",
        )

    @post(
        "/import",
        operation_id="portalImportExperts",
        opt=access(SECRETARIAT),
        request_max_body_size=MAX_BYTES + 64 * 1024,
    )
    async def import_file(
        self,
        request: Request[Any, Any, Any],
        views: NamedDependency[TenantViews],
        actor: NamedDependency[Actor],
    ) -> Redirect:
        """A pool from the .xlsx template: any bad row, nothing stored, each row's problems
        listed."""
        upload = (await request.form()).get("file")
        content = await upload.read() if isinstance(upload, UploadFile) else b""

        def import_pool_file() -> list[Expert]:
            if not content:
                raise RequestProblem(422, Problem("file", "required", "请选择要上传的文件"))
            return import_pool(views.runtime.ledger, content, actor)

        form = self._pool_page(
            views,
            fields=("file",),
            on_refusal=lambda page, found: {"row_problems": row_problems(page, found)},
        )
        where = f"/{views.runtime.tenant.code}/review/experts"
        return await form.submit(
            request,
            views.runtime.tenant,
            import_pool_file,
            lambda imported: f"{where}?imported={len(imported)}",
        )

    @get(
        "/{certificate_number:str}",
        operation_id="portalExpert",
        sync_to_thread=True,
        opt=access(SECRETARIAT),
    )
    def expert(
        self,
        request: Request[Any, Any, Any],
        certificate_number: FromPath[str],
        runtime: NamedDependency[TenantRuntime],
        done: Annotated[str, QueryParameter(max_length=10)] = "",
    ) -> Template:
        """One expert: the profile changed, a conflict declared, retired."""
        expert = runtime.ledger.get_expert(certificate_number)
        form = expert_page(expert, flag=done, values=expert_values(expert))
        return form.show(request, runtime.tenant)

    change_profile = _expert_form("profile", "portalChangeExpert", "changed", _change_profile)
    declare_conflict = _expert_form(
        "conflicts", "portalDeclareConflict", "conflict", _declare_conflict
    )
    retire = _expert_form("retire", "portalRetireExpert", "retired", _retire)


def row_problems(page: Page, problems: tuple[Problem, ...]) -> list[str]:
    """Each problem of an imported file as a line: its row, its column's heading, the rule."""
    headings = dict(COLUMNS)
    lines = []
    for p in problems:
        if not p.field.startswith("rows["):
            continue
        row, _, field = p.field.removeprefix("rows[").partition("].")
        heading = headings.get(field, field).split("（")[0]
        lines.append(
            page.speaker.gettext("第 %(row)s 行 · %(column)s：%(message)s")
            % {
                "row": row,
                "column": page.speaker.gettext(heading),
                "message": labels.problem(page.speaker, p),
            }
        )
    return lines
