"""What a request may carry before any handler sees it: the rules of the boundary, one home each.

- A JSON body is read only from `application/json` (or `…+json`): a form or `text/plain` body is
  refused with 415, so a cross-site HTML form cannot post to the API (`ApiRequest.json`).
- A body that is not UTF-8, not JSON, or nested deeper than `MAX_DEPTH` is refused with 400
  (`ApiRequest.json`); msgspec's own errors for the first two are not Litestar's.
- No text carries a NUL character (PostgreSQL text cannot hold it): the decoded body is walked
  once (`ApiRequest.json`), query and path parameters are checked before the handler
  (`refuse_hostile_parameters`); 422 naming the field.
- Numbers and moments a request carries are within what the platform can compute with
  (`value_problem`): a Decimal is finite and below 10¹⁵; a moment lies in the years
  1900–2199, so adding a zone's offset or a period never overflows. Request bodies check it
  in their base Struct (`api/platform/schemas.py`), query parameters through `checked_moment`.
"""

from __future__ import annotations

import math
from datetime import date
from decimal import Decimal
from typing import Any, TypeVar

from litestar import Request
from litestar.exceptions import SerializationException
from litestar.serialization import decode_json
from litestar.types import Empty

from aggregates.problems import InvalidInput, Problem
from api.platform.errors import RequestProblem

MAX_DEPTH = 32
"""No request body of the API nests deeper than a handful of levels."""
EARLIEST_YEAR, LATEST_YEAR = 1900, 2199
NUMBER_LIMIT = Decimal(10) ** 15
NUL = "\x00"
NUL_MESSAGE = "不能包含空字符（U+0000）"
D = TypeVar("D", bound=date)


class ApiRequest(Request[Any, Any, Any]):
    """Litestar's request, reading a JSON body only by the boundary's rules."""

    async def json(self) -> Any:
        if self._json is Empty and self._connection_state.json is Empty:
            self._connection_state.json = decoded_body(self.content_type[0], await self.body())
        return await super().json()


def decoded_body(media_type: str, body: bytes) -> Any:
    """The JSON value of a body expected to be JSON, or the problem with it."""
    if media_type != "application/json" and not media_type.endswith("+json"):
        raise RequestProblem(
            415,
            Problem(
                "content-type",
                "unsupported_media_type",
                "请求内容应为 JSON（Content-Type: application/json）",
            ),
        )
    try:
        value = decode_json(body or b"null")
    except UnicodeDecodeError:
        raise RequestProblem(
            400, Problem("body", "encoding", "请求内容不是有效的 UTF-8 编码")
        ) from None
    except RecursionError:
        raise _too_deep() from None
    except SerializationException as e:
        raise RequestProblem(
            400, Problem("body", "malformed", f"请求不是有效的 JSON（{e}）")
        ) from None
    _check_decoded(value)
    return value


def _too_deep() -> RequestProblem:
    return RequestProblem(400, Problem("body", "too_deep", f"JSON 嵌套层数不能超过 {MAX_DEPTH} 层"))


def _check_decoded(value: Any) -> None:
    """Every string of the body (keys too) without NUL, and no deeper than MAX_DEPTH; walked
    without recursion, so no body can exhaust the stack."""
    pending: list[tuple[str, Any, int]] = [("", value, 0)]
    problems: list[Problem] = []
    while pending:
        path, item, depth = pending.pop()
        if depth > MAX_DEPTH:
            raise _too_deep()
        if isinstance(item, str):
            if NUL in item:
                problems.append(Problem(path or "body", "nul_character", NUL_MESSAGE))
        elif isinstance(item, dict):
            for key, child in item.items():
                name = f"{path}.{key}" if path else str(key)
                if NUL in key:
                    problems.append(Problem(name, "nul_character", NUL_MESSAGE))
                else:
                    pending.append((name, child, depth + 1))
        elif isinstance(item, list):
            pending.extend((f"{path}[{i}]", child, depth + 1) for i, child in enumerate(item))
    if problems:
        raise InvalidInput(*sorted(problems, key=lambda p: p.field))


async def refuse_hostile_parameters(request: Request[Any, Any, Any]) -> None:
    """Before every handler: no query or path parameter carries a NUL character. A coroutine,
    though it never waits: Litestar runs a synchronous hook in a thread, which cost every
    request a thread hop (issue 22)."""
    problems = [
        Problem(name, "nul_character", NUL_MESSAGE)
        for name, value in (*request.query_params.multi_items(), *request.path_params.items())
        if NUL in name or (isinstance(value, str) and NUL in value)
    ]
    if NUL in request.scope["path"] and not problems:
        problems.append(Problem("path", "nul_character", NUL_MESSAGE))
    if problems:
        raise InvalidInput(*problems)


def value_problem(field: str, value: Any) -> Problem | None:
    """What is wrong with one typed value a request carries, if anything."""
    if isinstance(value, Decimal):
        if not value.is_finite():
            return Problem(field, "finite_number", "应为有限的数值（不能是 NaN 或无穷）")
        if abs(value) >= NUMBER_LIMIT:
            return Problem(field, "number_range", "数值超出允许范围")
    elif isinstance(value, float) and not math.isfinite(value):
        return Problem(field, "finite_number", "应为有限的数值（不能是 NaN 或无穷）")
    elif isinstance(value, date) and not EARLIEST_YEAR <= value.year <= LATEST_YEAR:
        return Problem(field, "moment_range", f"时间应在 {EARLIEST_YEAR} 年至 {LATEST_YEAR} 年之间")
    return None


def nested_problems(field: str, value: Any) -> list[Problem]:
    """`value_problem` of a value and of what its lists and dicts hold (not of nested Structs:
    they check themselves)."""
    if isinstance(value, dict):
        return [p for k, v in value.items() for p in nested_problems(f"{field}.{k}", v)]
    if isinstance(value, list | tuple | set | frozenset):
        return [p for i, v in enumerate(value) for p in nested_problems(f"{field}[{i}]", v)]
    problem = value_problem(field, value)
    return [problem] if problem else []


def checked_moment(field: str, value: D) -> D:
    """A moment (or a day) given as a query parameter, refused outside the platform's years."""
    if problem := value_problem(field, value):
        raise InvalidInput(problem)
    return value
