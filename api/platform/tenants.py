"""Tenants (协会): the list, and one tenant with its recommending units and lists."""

from __future__ import annotations

from litestar import Controller, get
from litestar.di import NamedDependency

from api.platform.access import SIGNED_IN, access
from api.platform.schemas import TenantSummary
from tenants.registry import Tenant
from tenants.runtime import Platform, TenantRuntime


class TenantController(Controller):
    path = "/api/v1/tenants"
    tags = ["tenants 协会"]

    @get("/", operation_id="listTenants", sync_to_thread=False, opt=access(SIGNED_IN))
    def list_tenants(self, platform: NamedDependency[Platform]) -> list[TenantSummary]:
        return [
            TenantSummary(
                code=t.code,
                name_zh=t.name_zh,
                name_en=t.name_en,
                short_name_zh=t.short_name_zh,
                level=t.level.value,
                national_parent=t.national_parent,
            )
            for t in platform.registry
        ]

    @get("/{tenant:str}", operation_id="showTenant", sync_to_thread=False, opt=access(SIGNED_IN))
    def show_tenant(self, runtime: NamedDependency[TenantRuntime]) -> Tenant:
        return runtime.tenant
