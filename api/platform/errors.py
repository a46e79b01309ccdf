"""The one map from errors to RFC 9457 problem details: every refusal names the field and rule.

Handlers have no try/except: domain exceptions travel here. Nothing else turns an error into a
response, and no stack trace ever reaches a user.
"""

from __future__ import annotations

import re
from typing import Any

import msgspec
import structlog
from litestar import MediaType, Request, Response
from litestar.exceptions import HTTPException, ValidationException
from litestar.status_codes import HTTP_500_INTERNAL_SERVER_ERROR

from aggregates.problems import Conflict, DomainError, InvalidInput, NotFound, Problem

log = structlog.get_logger(__name__)

PROBLEM_MEDIA_TYPE = "application/problem+json"
PROBLEM_BASE = "https://qcflow.cn/problems/"


class ProblemField(msgspec.Struct, frozen=True):
    field: str
    rule: str
    message: str


class ProblemDetails(msgspec.Struct, frozen=True, omit_defaults=True):
    type: str
    title: str
    status: int
    detail: str
    instance: str | None = None
    errors: list[ProblemField] = []


_KINDS: list[tuple[type[DomainError], int, str, str]] = [
    (InvalidInput, 422, "invalid-input", "输入不符合规则"),
    (NotFound, 404, "not-found", "未找到"),
    (Conflict, 409, "conflict", "与当前状态冲突"),
]


class RequestProblem(HTTPException):
    """A problem with the request itself (a header, a parameter), raised by the API layer."""

    def __init__(self, status_code: int, *problems: Problem) -> None:
        self.problems = problems
        super().__init__(status_code=status_code, detail="；".join(p.message for p in problems))


def problem_response(
    request: Request[Any, Any, Any],
    status: int,
    kind: str,
    title: str,
    problems: tuple[Problem, ...] | list[Problem],
    detail: str | None = None,
    headers: dict[str, str] | None = None,
) -> Response[ProblemDetails]:
    body = ProblemDetails(
        type=PROBLEM_BASE + kind,
        title=title,
        status=status,
        detail=detail or "；".join(f"{p.field}：{p.message}" for p in problems) or title,
        instance=request.url.path,
        errors=[ProblemField(p.field, p.rule, p.message) for p in problems],
    )
    return Response(body, status_code=status, media_type=PROBLEM_MEDIA_TYPE, headers=headers)


def domain_error(request: Request[Any, Any, Any], exc: DomainError) -> Response[ProblemDetails]:
    for kind_class, status, kind, title in _KINDS:
        if isinstance(exc, kind_class):
            return problem_response(request, status, kind, title, exc.problems)
    return problem_response(request, 400, "bad-request", "请求不能执行", exc.problems)


_CARRIED = re.compile(r"^problem `([^`]*)` ([a-z_]+): (.*)$", re.DOTALL)
"""A Problem carried through msgspec in a ValueError's message (a request Struct's own check)."""
_UNKNOWN = re.compile(r"unknown field `([^`]+)`")
_MISSING = re.compile(r"missing required field `([^`]+)`")


def validation_error(
    request: Request[Any, Any, Any], exc: ValidationException
) -> Response[ProblemDetails]:
    """Litestar's decoding errors (msgspec messages) as problems naming the field."""
    extra = exc.extra if isinstance(exc.extra, list) else []
    problems = [_validation_problem(item) for item in extra if isinstance(item, dict)]
    if not problems:
        problems = [Problem("body", "malformed", f"请求格式不正确：{exc.detail}")]
    return problem_response(request, 422, "invalid-input", "输入不符合规则", problems)


def _validation_problem(item: dict[str, Any]) -> Problem:
    message = str(item.get("message", ""))
    # Litestar names the body "data"; fields inside it by their dotted path.
    key = str(item.get("key") or "")
    key = "" if key == "data" else key.removeprefix("data.")
    if found := _UNKNOWN.search(message):
        return Problem(_join(key, found.group(1)), "unknown_field", f"不认识的字段（{message}）")
    if found := _MISSING.search(message):
        return Problem(_join(key, found.group(1)), "required", "必填")
    if found := _CARRIED.match(message):
        return Problem(_join(key, found.group(1)), found.group(2), found.group(3))
    field = key or "body"
    if any(word in message for word in ("length", ">=", "<=", "> ", "< ")):
        return Problem(field, "constraint", f"超出允许范围（{message}）")
    if message.startswith("Expected `"):
        return Problem(field, "type", f"类型不正确（{message}）")
    return Problem(field, "invalid", f"取值无效（{message}）")


def problem_text(problem: Problem) -> str:
    """A problem as the message of a ValueError raised inside msgspec's conversion (read back
    by `validation_error`, with the path msgspec adds)."""
    return f"problem `{problem.field}` {problem.rule}: {problem.message}"


def _join(prefix: str, name: str) -> str:
    return f"{prefix}.{name}" if prefix else name


def request_problem(
    request: Request[Any, Any, Any], exc: RequestProblem
) -> Response[ProblemDetails]:
    kind = {
        400: "bad-request",
        401: "unauthenticated",
        403: "forbidden",
        404: "not-found",
        413: "too-large",
        415: "unsupported-media-type",
        429: "too-many-requests",
        428: "precondition-required",
    }
    return problem_response(
        request, exc.status_code, kind.get(exc.status_code, "bad-request"), exc.detail, exc.problems
    )


def http_error(request: Request[Any, Any, Any], exc: HTTPException) -> Response[ProblemDetails]:
    status = exc.status_code
    if status >= 500:
        return internal_error(request, exc)
    problems = [Problem("request", "http_" + str(status), exc.detail)]
    title = {404: "未找到", 405: "不支持该请求方法"}.get(status, exc.detail)
    return problem_response(
        request, status, "http-" + str(status), title, problems, headers=exc.headers
    )


def internal_error(request: Request[Any, Any, Any], exc: Exception) -> Response[ProblemDetails]:
    log.exception("request_failed", error_type=type(exc).__name__)
    return problem_response(
        request,
        HTTP_500_INTERNAL_SERVER_ERROR,
        "internal",
        "服务器内部错误",
        [],
        detail="服务器内部错误，已记录，请稍后重试或联系管理员",
    )


EXCEPTION_HANDLERS: dict[Any, Any] = {
    DomainError: domain_error,
    RequestProblem: request_problem,
    ValidationException: validation_error,
    HTTPException: http_error,
    Exception: internal_error,
}
MEDIA_TYPE = MediaType.JSON
