"""The OpenAPI document: every path parameter, every refusal as a problem, every status a route's
access rule and kind let it answer (ADR 23). What the app really answers is checked against it by
tests/api/test_schemathesis.py."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from litestar import Litestar

import api.platform.openapi
from aggregates.actor import Role
from api.app import create_app
from api.platform.access import Access
from tenants.settings import Settings
from tests.api.conftest import make_account, sign_in
from tests.support import campaign_body, new_password

METHODS = ("get", "put", "post", "patch", "delete")
PROBLEM = {"application/problem+json": {"schema": {"$ref": "#/components/schemas/ProblemDetails"}}}
NOT_PROBLEMS = {("health", "503"), ("SchemaPathHandleSchemaPathNotFound", "404")}
"""`/health` answers 503 with its own report of what is down; Litestar's documentation pages
answer an unknown page with a page."""


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Litestar:
    return create_app(Settings(database_url=None, data_dir=tmp_path_factory.mktemp("var")))


@pytest.fixture(scope="module")
def document(app: Litestar) -> dict[str, Any]:
    return app.openapi_schema.to_schema()


def operations(document: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (method.upper(), path, operation)
        for path, item in document["paths"].items()
        for method, operation in item.items()
        if method in METHODS
    ]


def test_every_path_parameter_is_documented(document: dict[str, Any]) -> None:
    missing = [
        (method, path, name)
        for method, path, operation in operations(document)
        for name in re.findall(r"\{(\w+)\}", path)
        if not any(p["name"] == name and p["in"] == "path" for p in operation.get("parameters", []))
    ]
    assert missing == []


def test_every_refusal_is_a_problem(document: dict[str, Any]) -> None:
    wrong = [
        (method, path, status, response.get("content"))
        for method, path, operation in operations(document)
        for status, response in operation["responses"].items()
        if int(status) >= 400
        and (operation["operationId"], status) not in NOT_PROBLEMS
        and response.get("content") != PROBLEM
    ]
    assert wrong == []
    problem = document["components"]["schemas"]["ProblemDetails"]
    assert set(problem["required"]) == {"type", "title", "status", "detail"}
    assert problem["properties"]["errors"]["items"] == {"$ref": "#/components/schemas/ProblemField"}


def test_every_route_documents_what_its_access_rule_and_kind_answer(
    app: Litestar, document: dict[str, Any]
) -> None:
    for route in app.routes:
        for handler in getattr(route, "route_handlers", []):
            if not handler.resolve_include_in_schema():  # the portal's pages are not the API
                continue
            for method in handler.http_methods - {"OPTIONS", "HEAD"}:
                operation = document["paths"][route.path_format or "/"][method.lower()]
                documented = {int(s) for s in operation["responses"]}
                rule: Access = handler.opt["access"]
                expected = set()
                if not rule.public:
                    expected |= {401, 403}
                if route.path_parameters:
                    expected |= {404, 400, 422}
                body = operation.get("requestBody", {}).get("content", {})
                if "application/json" in body:
                    expected |= {413, 415, 422}
                if any(p["name"] == "If-Match" for p in operation.get("parameters", [])):
                    expected |= {409}
                if method != "GET":
                    expected |= {409}
                if method != "GET" and rule.public:
                    expected |= {429}
                where = (method, route.path, sorted(documented))
                assert expected <= documented, (*where, sorted(expected - documented))
                if handler.status_code == 204:
                    assert "content" not in operation["responses"]["204"], where


def test_the_signed_in_account_documents_its_tenant(document: dict[str, Any]) -> None:
    """`GET /tenants/{tenant}/me` omitted its one parameter (issue 16 §7)."""
    operation = document["paths"]["/api/v1/tenants/{tenant}/me"]["get"]
    assert [(p["name"], p["in"]) for p in operation["parameters"]] == [("tenant", "path")]
    assert {"200", "401", "403", "404"} <= set(operation["responses"])


def test_a_replayed_create_and_downloads_are_documented(document: dict[str, Any]) -> None:
    create = document["paths"]["/api/v1/tenants/{tenant}/campaigns"]["post"]["responses"]
    assert create["200"]["content"] == create["201"]["content"]  # Idempotency-Key: a replay
    results = "/api/v1/tenants/{tenant}/campaigns/{campaign_id}/results.xlsx"
    assert list(document["paths"][results]["get"]["responses"]["200"]["content"]) == [
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    ]
    metrics = document["paths"]["/metrics"]["get"]["responses"]["200"]["content"]
    assert list(metrics) == ["text/plain"]


def test_an_own_answer_of_an_operation_that_does_not_exist_stops_the_app(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(api.platform.openapi.OWN_ANSWERS, "noSuchOperation", {})
    with pytest.raises(RuntimeError, match="noSuchOperation"):
        create_app(Settings(database_url=None, data_dir=tmp_path / "var"))


@pytest.mark.parametrize("backend", ["sqlite"])  # the HTTP contract does not depend on storage
async def test_answers_off_the_generated_paths_are_documented(anonymous: Any) -> None:
    """What schemathesis' random values rarely reach: a login already registered, a wrong
    password, a locked account, another tenant's path, a stale If-Match."""
    document = anonymous.app.openapi_schema.to_schema()
    saq = "/api/v1/tenants/saq"
    seen: list[tuple[str, str, int]] = []

    async def call(method: str, template: str, path: str, **kwargs: Any) -> None:
        response = await anonymous.request(method, path, **kwargs)
        seen.append((method, template, response.status_code))
        if response.status_code >= 400:
            assert response.headers["content-type"] == "application/problem+json", response.text

    registration = {
        "login": "wang@example.cn",
        "name": "王芳",
        "password": new_password(),
        "enterprise_name": "中国工商银行股份有限公司上海市分行",
        "credit_code": "91100000100003962T",
    }
    for _ in range(2):
        await call(
            "POST",
            "/api/v1/tenants/{tenant}/registrations",
            f"{saq}/registrations",
            json=registration,
        )
    login, _ = make_account(anonymous, "saq", Role.SECRETARIAT)
    for _ in range(6):  # wrong passwords until the account locks
        await call(
            "POST",
            "/api/v1/tenants/{tenant}/session",
            f"{saq}/session",
            json={"login": login, "password": new_password()},
        )
    headers = await sign_in(anonymous, "saq", Role.SECRETARIAT)
    await call("GET", "/api/v1/tenants/{tenant}/me", "/api/v1/tenants/sdaq/me", headers=headers)
    opened = await anonymous.post(f"{saq}/campaigns", json=campaign_body(), headers=headers)
    campaign = f"{saq}/campaigns/{opened.json()['id']}"
    await call(
        "POST",
        "/api/v1/tenants/{tenant}/campaigns/{campaign_id}/archive",
        f"{campaign}/archive",
        json={"reason": "重复"},
        headers={**headers, "If-Match": '"99"'},
    )
    undocumented = [
        (method, template, status)
        for method, template, status in seen
        if str(status) not in document["paths"][template][method.lower()]["responses"]
    ]
    assert undocumented == []
    assert {status for *_, status in seen} >= {401, 404, 409}
