"""The reviewer pool (评审专家库) in the browser: the list with each certificate's validity
(expiring within 90 days flagged) and declared conflicts; enrol, change, retire, declare a
conflict; import a pool from its .xlsx template, every row's problems listed and nothing stored
when one is wrong. The same commands and reads as `api/review/routes.py`'s ExpertController."""

from __future__ import annotations

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
from api.portal.errors import FormState
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


def _text(form: Any, name: str) -> str:
    value = form.get(name)
    return value.strip() if isinstance(value, str) else ""


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
                "declared": [
                    {**c, "kind_text": page.speaker.gettext(KIND_WORDS.get(c["kind"], c["kind"]))}
                    for c in (
                        ledger.get_expert(e.certificate_number).conflicts if e.conflicts else []
                    )
                ],
            }
            for e in list_experts(views.db("review_board"))
        ]
        return {
            "experts": experts,
            "columns": [heading for _, heading in COLUMNS],
            "row_problems": [],
            "fields": PROFILE_FIELDS,
        }

    @get("/", operation_id="portalExpertPool", sync_to_thread=True, opt=access(SECRETARIAT))
    def pool(
        self,
        request: Request[Any, Any, Any],
        views: NamedDependency[TenantViews],
        done: Annotated[str, QueryParameter(max_length=10)] = "",
        imported: Annotated[int, QueryParameter(ge=0, le=5000)] = 0,
    ) -> Template:
        page = Page(request, views.runtime.tenant)
        return page.render(
            "review/experts.html",
            **self._list(page, views),
            done=page.speaker.gettext(DONE[done]) if done in DONE else "",
            imported=imported,
            values={},
            problems={},
            general_problems=[],
        )

    @get(
        "/template.xlsx",
        operation_id="portalExpertTemplate",
        sync_to_thread=True,
        opt=access(SECRETARIAT),
    )
    def template_file(self) -> Response[bytes]:
        return download(template(), XLSX, "评审专家库导入表.xlsx")

    @post("/", operation_id="portalEnrolExpert", opt=access(SECRETARIAT))
    async def enrol(
        self,
        request: Request[Any, Any, Any],
        views: NamedDependency[TenantViews],
        actor: NamedDependency[Actor],
    ) -> Template | Redirect:
        form = await request.form()
        values = {f: _text(form, f) for f in PROFILE_FIELDS}
        return await sync_to_thread(self._enrol, request, views, actor, values)

    def _enrol(
        self,
        request: Request[Any, Any, Any],
        views: TenantViews,
        actor: Actor,
        values: dict[str, str],
    ) -> Redirect:
        page = Page(request, views.runtime.tenant)
        request.state.form = FormState(
            template="review/experts.html",
            fields=PROFILE_FIELDS,
            values=values,
            context={**self._list(page, views), "done": "", "imported": 0},
            page=page,
        )
        views.runtime.ledger.enrol_expert(profile_of(values), actor)
        return Redirect(
            f"/{views.runtime.tenant.code}/review/experts?done=enrolled", status_code=303
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
    ) -> Template | Redirect:
        form = await request.form()
        upload = form.get("file")
        content = await upload.read() if isinstance(upload, UploadFile) else b""
        return await sync_to_thread(self._import, request, views, actor, content)

    def _import(
        self, request: Request[Any, Any, Any], views: TenantViews, actor: Actor, content: bytes
    ) -> Redirect:
        page = Page(request, views.runtime.tenant)
        request.state.form = FormState(
            template="review/experts.html",
            fields=("file",),
            values={},
            context={**self._list(page, views), "done": "", "imported": 0},
            page=page,
            on_refusal=lambda problems: {"row_problems": row_problems(page, problems)},
        )
        if not content:
            raise RequestProblem(422, Problem("file", "required", "请选择要上传的文件"))
        imported = import_pool(views.runtime.ledger, content, actor)
        where = f"/{views.runtime.tenant.code}/review/experts?imported={len(imported)}"
        return Redirect(where, status_code=303)

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
        page = Page(request, runtime.tenant)
        expert = runtime.ledger.get_expert(certificate_number)
        return page.render(
            "review/expert.html",
            **self._expert(page, expert),
            done=page.speaker.gettext(DONE[done]) if done in DONE else "",
            acting="",
            values=expert_values(expert),
            problems={},
            general_problems=[],
        )

    def _expert(self, page: Page, expert: Expert) -> dict[str, Any]:
        today = page.now.astimezone(page.zone).date()
        return {
            "expert": {
                "number": expert.certificate_number,
                "name": expert.name,
                "retired": expert.retired_reason,
                "conflicts": [
                    {**c, "kind_text": page.speaker.gettext(KIND_WORDS.get(c["kind"], c["kind"]))}
                    for c in expert.conflicts
                ],
                "validity": validity(str(expert.profile["certificate"]["valid_until"]), today),
            },
            "kinds": [(k, page.speaker.gettext(KIND_WORDS[k])) for k in CONFLICT_KINDS],
            "fields": PROFILE_FIELDS,
        }

    async def _posted(self, request: Request[Any, Any, Any]) -> dict[str, str]:
        form = await request.form()
        return {f: _text(form, f) for f in (*PROFILE_FIELDS, "kind", "value", "reason")}

    @post(
        "/{certificate_number:str}/profile",
        operation_id="portalChangeExpert",
        opt=access(SECRETARIAT),
    )
    async def change_profile(
        self,
        request: Request[Any, Any, Any],
        certificate_number: FromPath[str],
        runtime: NamedDependency[TenantRuntime],
        actor: NamedDependency[Actor],
    ) -> Template | Redirect:
        posted = await self._posted(request)
        return await sync_to_thread(
            self._change, request, certificate_number, "profile", runtime, actor, posted
        )

    @post(
        "/{certificate_number:str}/conflicts",
        operation_id="portalDeclareConflict",
        opt=access(SECRETARIAT),
    )
    async def declare_conflict(
        self,
        request: Request[Any, Any, Any],
        certificate_number: FromPath[str],
        runtime: NamedDependency[TenantRuntime],
        actor: NamedDependency[Actor],
    ) -> Template | Redirect:
        posted = await self._posted(request)
        return await sync_to_thread(
            self._change, request, certificate_number, "conflicts", runtime, actor, posted
        )

    @post(
        "/{certificate_number:str}/retire",
        operation_id="portalRetireExpert",
        opt=access(SECRETARIAT),
    )
    async def retire(
        self,
        request: Request[Any, Any, Any],
        certificate_number: FromPath[str],
        runtime: NamedDependency[TenantRuntime],
        actor: NamedDependency[Actor],
    ) -> Template | Redirect:
        posted = await self._posted(request)
        return await sync_to_thread(
            self._change, request, certificate_number, "retire", runtime, actor, posted
        )

    def _change(
        self,
        request: Request[Any, Any, Any],
        number: str,
        action: str,
        runtime: TenantRuntime,
        actor: Actor,
        posted: dict[str, str],
    ) -> Redirect:
        page = Page(request, runtime.tenant)
        ledger = runtime.ledger
        expert = ledger.get_expert(number)
        values = (
            posted
            if action == "profile"
            else {**expert_values(expert), **{k: posted[k] for k in ("kind", "value", "reason")}}
        )
        fields = {
            "profile": PROFILE_FIELDS,
            "conflicts": ("kind", "value", "reason"),
            "retire": ("reason",),
        }
        request.state.form = FormState(
            template="review/expert.html",
            fields=fields[action],
            values=values,
            context={**self._expert(page, expert), "done": "", "acting": action},
            page=page,
        )
        if action == "profile":
            ledger.change_expert(number, profile_of(posted), actor)
            done = "changed"
        elif action == "conflicts":
            ledger.declare_conflict(
                number, posted["kind"], posted["value"], posted["reason"], actor
            )
            done = "conflict"
        else:
            ledger.retire_expert(number, posted["reason"], actor)
            done = "retired"
        return Redirect(
            f"/{runtime.tenant.code}/review/experts/{number}?done={done}", status_code=303
        )


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
