"""Registrations (报名) of applicant units for a campaign."""

from __future__ import annotations

from uuid import UUID

from litestar import Controller, Response, get, post, put
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody
from litestar.status_codes import HTTP_201_CREATED

from aggregates.actor import Actor, Role
from aggregates.registration import Registration
from api.applicants.schemas import RegistrationIn, RegistrationOut
from api.platform.access import access, only
from api.platform.dependencies import etag
from api.platform.records import Records
from tenants.runtime import TenantRuntime


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
        records: NamedDependency[Records],
        campaign_id: FromPath[UUID],
        data: JSONBody[RegistrationIn],
        runtime: NamedDependency[TenantRuntime],
        actor: NamedDependency[Actor],
    ) -> Response[RegistrationOut]:
        registration = runtime.ledger.register_for_campaign(
            campaign_id, records.filing_code(), data.to_form(), actor
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
        records: NamedDependency[Records],
        campaign_id: FromPath[UUID],
        runtime: NamedDependency[TenantRuntime],
    ) -> Response[RegistrationOut]:
        registration_id = Registration.create_id(campaign_id, records.filing_code())
        return _out(records.own_registration(runtime, registration_id))

    @get(
        "/registrations/{registration_id:uuid}",
        operation_id="showRegistration",
        sync_to_thread=True,
        opt=access(only(Role.APPLICANT_UNIT, Role.SECRETARIAT, Role.AUDITOR)),
    )
    def show(
        self,
        records: NamedDependency[Records],
        registration_id: FromPath[UUID],
        runtime: NamedDependency[TenantRuntime],
    ) -> Response[RegistrationOut]:
        return _out(records.registration(runtime, registration_id))

    @put(
        "/registrations/{registration_id:uuid}",
        operation_id="changeRegistration",
        sync_to_thread=True,
        opt=access(only(Role.APPLICANT_UNIT)),
    )
    def change(
        self,
        records: NamedDependency[Records],
        registration_id: FromPath[UUID],
        data: JSONBody[RegistrationIn],
        runtime: NamedDependency[TenantRuntime],
        actor: NamedDependency[Actor],
        expected_version: NamedDependency[int | None],
    ) -> Response[RegistrationOut]:
        records.own_registration(runtime, registration_id)
        return _out(
            runtime.ledger.change_registration(
                registration_id, data.to_form(), actor, expected_version
            )
        )
