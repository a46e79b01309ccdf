"""Every route's documented answers, derived in one place from its access rule and its kind.

Litestar documents a route's success and, where it takes input, a generic 400 in its own error
shape. What the platform answers besides follows from rules that hold for every route alike:
the access guard (401, 403; 404 for another tenant), the one error map (`api/platform/errors.py`: 404,
409, 422, each an RFC 9457 problem), Litestar's reading of a body (413, 415), the throttle of
public commands (429). So each route's `responses` is derived here from those rules, not written
by hand on each handler; what is a route's own (sign-in's 401, a read model catching up, the
Prometheus text) is in `OWN_ANSWERS` below, by operation id, checked at start.
`tests/api/test_openapi.py` checks the document; `tests/api/test_schemathesis.py` that the app
answers nothing it does not document.
"""

from __future__ import annotations

from typing import Any

from litestar import HttpMethod, Litestar
from litestar.handlers import HTTPRouteHandler
from litestar.openapi.datastructures import ResponseSpec
from litestar.response import Response, Stream
from litestar.routes import HTTPRoute
from litestar.types import Method as HttpMethodName

from api.platform.access import Access
from api.platform.errors import PROBLEM_MEDIA_TYPE, ProblemDetails
from api.platform.exports import XLSX
from api.platform.health import Health

COMMAND_METHODS = frozenset(("POST", "PUT", "PATCH", "DELETE"))

_WHY = {
    400: "请求格式不正确（如 If-Match 不是 ETag、确认码无效）",
    401: "未登录或登录已失效",
    403: "角色无权执行此操作，或缺少 CSRF 令牌",
    404: "未找到（含其他协会的记录与路径）",
    409: "与当前状态冲突，或 If-Match 的版本已过时（stale_version）",
    413: "请求体超过大小上限",
    415: "请求体须为 application/json",
    422: "输入不符合规则：problem 的 errors 逐项列出字段与规则",
    429: "请求过于频繁，请稍后再试",
}

DOWNLOADS = {
    ".xlsx": XLSX,
    ".csv": "text/csv",
    ".pdf": "application/pdf",
    ".json": "application/json",
}
"""A download's media type, by the extension of its path."""


def problem(status: int, description: str | None = None) -> ResponseSpec:
    """A refusal as an RFC 9457 problem (`application/problem+json`)."""
    return ResponseSpec(
        data_container=ProblemDetails,
        media_type=PROBLEM_MEDIA_TYPE,
        description=description or _WHY[status],
        generate_examples=False,
    )


_PROBLEMS = {status: problem(status) for status in _WHY}
_NOT_COUNTED = problem(409, "演练活动不计入统计（rehearsal）")

OWN_ANSWERS: dict[str, dict[int, ResponseSpec]] = {
    "login": {
        401: problem(401, "登录名或密码不正确"),
        403: problem(403, "账号已锁定、已停用或尚未确认"),
    },
    "campaignStatistics": {
        503: problem(503, "统计的读模型尚未赶上账本，请稍后再试"),
        409: _NOT_COUNTED,
    },
    "exportCampaignStatisticsXlsx": {
        503: problem(503, "统计的读模型尚未赶上账本，请稍后再试"),
        409: _NOT_COUNTED,
    },
    "statisticsRollUp": {409: _NOT_COUNTED},
    "exportStatisticsRollUpXlsx": {409: _NOT_COUNTED},
    "health": {
        503: ResponseSpec(
            Health, description="某个协会的存储或读模型不可用", generate_examples=False
        )
    },
    "metrics": {
        200: ResponseSpec(
            str,
            media_type="text/plain",
            description="Prometheus 文本格式（按 Accept 也可为 OpenMetrics）",
            generate_examples=False,
        )
    },
    "SchemaPathHandleSchemaPathNotFound": {  # Litestar's page for an unknown document
        404: ResponseSpec(str, media_type="text/html", description="没有这个文档页")
    },
    "importExperts": {
        413: problem(413, "文件超过 5 MB"),
        422: problem(422, "不是 .xlsx 文件，或有行不符合规则：errors 逐行列出（rows[n].字段）"),
    },
    "importRecommendation": {413: problem(413, "文件超过 5 MB")},
    "downloadAttachment": {
        200: ResponseSpec(
            bytes, media_type="*/*", description="附件原文件（其内容类型）", generate_examples=False
        )
    },
}
"""What a route answers of its own, beyond the rules of its kind (these win)."""


def answers(route: HTTPRoute, method: HttpMethodName) -> set[int]:
    """The refusals a route's method can answer, from its access rule and its kind."""
    handler, kwargs = route.route_handler_map[method]
    rule = handler.opt.get("access")
    signed_in = isinstance(rule, Access) and not rule.public
    body = "data" in kwargs.expected_reserved_kwargs
    streams_body = method in COMMAND_METHODS and handler.request_max_body_size is None
    if_match = any(p.field_alias.lower() == "if-match" for p in kwargs.expected_header_params)
    takes_input = bool(
        body
        or streams_body
        or kwargs.expected_path_params
        or kwargs.expected_query_params
        or kwargs.expected_header_params
    )
    statuses: set[int] = set()
    if signed_in:
        statuses |= {401, 403}
    if route.path_parameters:
        statuses.add(404)  # a record that is not there; another tenant's, to a signed-in user
    if takes_input:
        statuses |= {400, 422}
    if method in COMMAND_METHODS or if_match:
        statuses.add(409)  # any command meets the state (a login already registered, too)
    if body or streams_body:
        statuses.add(413)
    if body:
        statuses.add(415)
    if method in COMMAND_METHODS and not signed_in:
        statuses.add(429)  # public commands (sign-in, resets, registration) are throttled
    return statuses


def document_responses(app: Litestar) -> None:
    """Give every route of the app its documented answers (before the schema is built)."""
    seen: set[str] = set()
    for route in app.routes:
        if not isinstance(route, HTTPRoute):
            continue
        for handler in route.route_handlers:
            methods = handler.http_methods - {"OPTIONS", "HEAD"}
            if not methods:
                continue
            statuses: set[int] = set()
            for method in methods:
                statuses |= answers(route, method)
            documented: dict[int, ResponseSpec] = {s: _PROBLEMS[s] for s in sorted(statuses)}
            success = _success(route, handler)
            if success is not None:
                documented[handler.status_code] = success
            if handler.status_code == 201 and _takes_idempotency_key(handler):
                documented[200] = ResponseSpec(
                    data_container=success_body(handler),
                    description="以同一 Idempotency-Key 重复提交：返回已创建的资源",
                    generate_examples=False,
                )
            operation_ids = {_operation_id(app, route, handler, m) for m in methods}
            own = {k: v for i in operation_ids for k, v in OWN_ANSWERS.get(i, {}).items()}
            seen |= operation_ids
            handler.responses = {**documented, **own, **(handler.responses or {})}
    if unknown := set(OWN_ANSWERS) - seen:
        raise RuntimeError(f"OWN_ANSWERS names operations that do not exist: {sorted(unknown)}")


def _operation_id(
    app: Litestar, route: HTTPRoute, handler: HTTPRouteHandler, method: HttpMethodName
) -> str:
    """The operation id the document gives the route (declared, or Litestar's own)."""
    if isinstance(handler.operation_id, str):
        return handler.operation_id
    create = handler.operation_id
    if create is None and app.openapi_config is not None:
        create = app.openapi_config.operation_id_creator
    return create(handler, HttpMethod(method), route.path_components) if create else ""


def _success(route: HTTPRoute, handler: HTTPRouteHandler) -> ResponseSpec | None:
    """The success answer where Litestar's own would be wrong: no content, or a download."""
    if handler.status_code == 204:
        return ResponseSpec(data_container=None, description="成功，无内容")
    suffix = next((s for s in DOWNLOADS if route.path.endswith(s)), None)
    if suffix is None or success_body(handler) not in (bytes, Stream):
        return None
    return ResponseSpec(
        data_container=dict[str, Any] if suffix == ".json" else bytes,
        media_type=DOWNLOADS[suffix],
        description="下载文件",
        generate_examples=False,
    )


def _takes_idempotency_key(handler: HTTPRouteHandler) -> bool:
    """A create that takes an `Idempotency-Key` answers 200 with the same body when replayed."""
    return any(
        getattr(f.kwarg_definition, "name", None) == "Idempotency-Key"
        for f in handler.parsed_fn_signature.parameters.values()
    )


def success_body(handler: HTTPRouteHandler) -> Any:
    """The body type of a handler's success answer (`Response[X]` gives X)."""
    returned = handler.parsed_fn_signature.return_type
    if returned.is_subclass_of(Response) and returned.inner_types:
        return returned.inner_types[0].annotation
    return returned.annotation
