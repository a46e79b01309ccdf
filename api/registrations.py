"""Registrations (报名) of applicant units for a campaign."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from litestar import Controller, Request, Response, get, post, put
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody
from litestar.status_codes import HTTP_201_CREATED

from aggregates.actor import Actor, Role
from aggregates.registration import Registration
from api.access import (
    Principal,
    access,
    applicant_may,
    can_see_entry,
    enterprise_codes,
    not_found,
    only,
    scopes,
)
from api.dependencies import etag
from api.submission_schemas import RegistrationIn, RegistrationOut
from tenants.runtime import TenantRuntime


def own_credit_code(principal: Principal) -> str:
    """The code the applicant files under: an enterprise it speaks for, else the one it claims
    (its filings then are its own drafts only, ADR 0017)."""
    codes = sorted(enterprise_codes(principal)) or sorted(scopes(principal, Role.APPLICANT_UNIT))
    if not codes:
        raise not_found("credit_code")
    return codes[0]


def _lists(runtime: TenantRuntime) -> tuple[set[str], list[str]]:
    tenant = runtime.tenant
    return {n for group in tenant.key_industries for n in group.names}, tenant.key_domains


def _out(registration: Registration, status: int = 200) -> Response[RegistrationOut]:
    return Response(
        RegistrationOut.of(registration),
        status_code=status,
        headers={"ETag": etag(registration.version)},
    )


class CampaignRegistrationController(Controller):
    path = "/api/v1/tenants/{tenant:str}"
    tags = ["registrations 报名"]

    @post(
        "/campaigns/{campaign_id:uuid}/registrations",
        operation_id="registerForCampaign",
        sync_to_thread=True,
        opt=access(only(Role.APPLICANT_UNIT)),
        status_code=HTTP_201_CREATED,
    )
    def register(
        self,
        request: Request[Any, Any, Any],
        campaign_id: FromPath[UUID],
        data: JSONBody[RegistrationIn],
        runtime: NamedDependency[TenantRuntime],
        actor: NamedDependency[Actor],
    ) -> Response[RegistrationOut]:
        industries, domains = _lists(runtime)
        registration = runtime.ledger.register_for_campaign(
            campaign_id,
            own_credit_code(request.state.principal),
            data.to_form(),
            industries,
            domains,
            actor,
        )
        return _out(registration, HTTP_201_CREATED)

    @get(
        "/campaigns/{campaign_id:uuid}/registrations/mine",
        operation_id="showMyRegistration",
        sync_to_thread=True,
        opt=access(only(Role.APPLICANT_UNIT)),
    )
    def mine(
        self,
        request: Request[Any, Any, Any],
        campaign_id: FromPath[UUID],
        runtime: NamedDependency[TenantRuntime],
    ) -> Response[RegistrationOut]:
        credit_code = own_credit_code(request.state.principal)
        registration_id = Registration.create_id(campaign_id, credit_code)
        registration = runtime.ledger.get_registration(registration_id)
        if not applicant_may(
            request.state.principal,
            credit_code,
            lambda: runtime.ledger.author_of(registration_id),
        ):
            raise not_found("registration_id")
        return _out(registration)

    @get(
        "/registrations/{registration_id:uuid}",
        operation_id="showRegistration",
        sync_to_thread=True,
        opt=access(only(Role.APPLICANT_UNIT, Role.SECRETARIAT, Role.AUDITOR)),
    )
    def show(
        self,
        request: Request[Any, Any, Any],
        registration_id: FromPath[UUID],
        runtime: NamedDependency[TenantRuntime],
    ) -> Response[RegistrationOut]:
        registration = runtime.ledger.get_registration(registration_id)
        if not can_see_entry(
            request.state.principal,
            registration.credit_code,
            "",
            "draft",
            author=lambda: runtime.ledger.author_of(registration_id),
        ):
            raise not_found("registration_id")
        return _out(registration)

    @put(
        "/registrations/{registration_id:uuid}",
        operation_id="changeRegistration",
        sync_to_thread=True,
        opt=access(only(Role.APPLICANT_UNIT)),
    )
    def change(
        self,
        request: Request[Any, Any, Any],
        registration_id: FromPath[UUID],
        data: JSONBody[RegistrationIn],
        runtime: NamedDependency[TenantRuntime],
        actor: NamedDependency[Actor],
        expected_version: NamedDependency[int | None],
    ) -> Response[RegistrationOut]:
        registration = runtime.ledger.get_registration(registration_id)
        if not applicant_may(
            request.state.principal,
            registration.credit_code,
            lambda: runtime.ledger.author_of(registration_id),
        ):
            raise not_found("registration_id")
        industries, domains = _lists(runtime)
        return _out(
            runtime.ledger.change_registration(
                registration_id, data.to_form(), industries, domains, actor, expected_version
            )
        )
