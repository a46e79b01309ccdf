"""What the secretariat's accounts page reads from its forms and shows of an account: the
roles it invites to, the role binding read by the API's own schema, an account's state and
grants in words, reasons bounded as the API's (`api/portal/staff.py` is the controller)."""

from __future__ import annotations

from typing import Any, TypeVar

import msgspec

from aggregates.account import Account, AccountStatus, Grant
from aggregates.actor import Role
from aggregates.limits import REASON_MAX_CHARS, too_long
from aggregates.problems import Problem
from api.accounts.schemas import InvitationRequest, RoleBinding
from api.platform.errors import RequestProblem
from api.portal import labels
from api.portal.rendering import Page

N_ = labels.N_
INVITED_ROLES = (
    Role.RECOMMENDING_UNIT,
    Role.REVIEWER,
    Role.AUDITOR,
    Role.SECRETARIAT,
    Role.NATIONAL_STAFF,
)
"""What the secretariat invites to, as the API's `InvitedRole` (colleagues are 秘书处)."""
REVIEWER_FIELDS = ("work_unit", "certificate_kind", "certificate_number", "mobile")
BINDING_FIELDS = ("role", "unit", *(f"reviewer.{f}" for f in REVIEWER_FIELDS))
INVITATION_FIELDS = ("login", "name", *BINDING_FIELDS)
STATES = {
    "pending": N_("待接受邀请"),
    "active": N_("已启用"),
    "locked": N_("已锁定"),
    "disabled": N_("已停用"),
}
SCHEMA_WORDS = {
    "login": N_("登录名须为电子邮箱"),
    "name": N_("姓名不能为空，且不超过 100 字"),
    "reviewer.work_unit": N_("工作单位 2 至 200 字"),
    "reviewer.certificate_kind": N_("请填写证书类别"),
    "reviewer.certificate_number": N_("请填写证书编号"),
    "reviewer.mobile": N_("手机号应为 11 位数字，以 1 开头"),
}
"""The API schema's bounds on these fields, said beside them (the schema decides)."""
REFUSALS = (
    N_("请选择本协会的推荐单位"),
    N_("评委须填写工作单位、证书和手机"),
    N_("全国质协工作人员角色仅用于全国协会"),
    N_("该登录名已被注册"),
    N_("该角色已授予"),
    N_("该账号没有此角色"),
    N_("账号未锁定"),
    N_("不能停用自己的账号"),
    N_("账号已停用"),
    N_("须说明停用原因"),
    N_("请说明收回角色的原因"),
    N_("请选择角色"),
    N_("原因不得超过 500 字"),
    N_("单位名称不能为空，且不超过 200 字"),
    N_("请说明更名的依据"),
    N_("单位名称未改变"),
    N_("账号未绑定该统一社会信用代码"),
)
"""The refusals of these pages whose message is fixed (the catalog translates them)."""


def state_of(account: Account, page: Page) -> str:
    if account.status is AccountStatus.DISABLED:
        return "disabled"
    if account.is_locked(page.now):
        return "locked"
    return account.status.value


def grant_text(page: Page, grant: Grant, tenant_units: dict[str, str]) -> str:
    name = labels.role(page.speaker, grant.role)
    details = dict(grant.details)
    if grant.role is Role.RECOMMENDING_UNIT and grant.scope:
        return f"{name}：{tenant_units.get(grant.scope, grant.scope)}"
    if grant.role is Role.REVIEWER and grant.scope:
        return f"{name}：{details.get('work_unit', '')}（{grant.scope}）"
    if grant.scope:
        return f"{name}：{details.get('enterprise_name') or grant.scope}"
    return name


B = TypeVar("B", bound=RoleBinding)


def binding(values: dict[str, str], kind: type[B]) -> B:
    """The form's role binding as the API's schema reads it (its bounds apply), or each
    problem beside its field."""
    role = values.get("role", "")
    problems = []
    if role not in {r.value for r in INVITED_ROLES}:
        problems.append(Problem("role", "required", "请选择角色"))
    raw: dict[str, Any] = {"role": role}
    login_and_name = kind is InvitationRequest
    if login_and_name:
        raw |= {"login": values.get("login", ""), "name": values.get("name", "")}
        problems += [Problem(n, "required", "不能为空") for n in ("login", "name") if not raw[n]]
    if role == Role.RECOMMENDING_UNIT.value:
        raw["unit"] = values.get("unit", "")
    if role == Role.REVIEWER.value:
        raw["reviewer"] = {f: values.get(f"reviewer.{f}", "") for f in REVIEWER_FIELDS}
        problems += [
            Problem(f"reviewer.{f}", "required", "不能为空")
            for f in REVIEWER_FIELDS
            if not raw["reviewer"][f]
        ]
    if problems:
        raise RequestProblem(422, *problems)
    try:
        return msgspec.convert(raw, kind)
    except msgspec.ValidationError as e:
        field = str(e).rpartition("at `$.")[2].rstrip("`") or "role"
        message = SCHEMA_WORDS.get(field, "提交的内容格式不正确")
        raise RequestProblem(422, Problem(field, "schema", message)) from None


DONE = ("granted", "revoked", "renamed", "unlocked", "disabled")


def role_choices(page: Page, level: str) -> list[tuple[str, str]]:
    roles = [r for r in INVITED_ROLES if r is not Role.NATIONAL_STAFF or level == "national"]
    return [(r.value, labels.role(page.speaker, r)) for r in roles]


def check_reason(reason: str, required: str, field: str = "reason") -> None:
    problems = [] if reason else [Problem(field, "required", required)]
    problems += too_long(field, reason, REASON_MAX_CHARS, "原因")
    if problems:
        raise RequestProblem(422, *problems)
