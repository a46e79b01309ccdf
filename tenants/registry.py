"""The tenant registry: one TOML file per tenant, validated whole at start.

A bad file stops start-up with a message naming the file and the field. A new tenant is a new
file; no code changes.
"""

from __future__ import annotations

import re
import zoneinfo
from collections import Counter
from collections.abc import Iterator
from enum import StrEnum
from pathlib import Path

import msgspec

from aggregates.campaign import Programme

TENANT_CODE = re.compile(r"^[a-z][a-z0-9]{1,15}$")
UNIT_CODE = re.compile(r"^[a-z][a-z0-9_]{0,62}$")


class TenantConfigError(Exception):
    """A tenant file is missing, unreadable or breaks a rule; the message names file and field."""


class Level(StrEnum):
    PROVINCIAL = "provincial"
    INDUSTRY = "industry"
    NATIONAL = "national"


class UnitKind(StrEnum):
    DISTRICT = "district"
    CITY = "city"
    INDUSTRY = "industry"
    GROUP = "group"
    ASSOCIATION = "association"
    DIRECT = "direct"


class ClaimVerifiers(StrEnum):
    """Who may verify an enterprise's claim to an account (ADR 0017)."""

    SECRETARIAT = "secretariat"
    RECOMMENDING_UNITS = "recommending_units"
    """The secretariat, and each recommending unit for the enterprises that filed under it."""


UNIT_KIND_NAMES_ZH = {
    UnitKind.DISTRICT: "区",
    UnitKind.CITY: "市",
    UnitKind.INDUSTRY: "行业",
    UnitKind.GROUP: "集团",
    UnitKind.ASSOCIATION: "省市质协",
    UnitKind.DIRECT: "直接受理",
}


class _Config(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Base of the tenant file's tables: a misspelt key is an error, not silently ignored."""


class Contact(_Config, frozen=True):
    department: str
    person: str
    phone: str
    email: str
    address: str
    postcode: str
    mobile: str | None = None


class Grade(_Config, frozen=True):
    code: str
    name_zh: str
    name_en: str


class ProgrammeConfig(_Config, frozen=True):
    name_zh: str
    standard: str
    grades: list[Grade]


class IndustryGroup(_Config, frozen=True):
    group: str
    names: list[str]


class RecommendingUnit(_Config, frozen=True):
    code: str
    name_zh: str
    kind: UnitKind
    tenant: str | None = None
    """Set when the unit is itself a tenant of the platform (a province under the national one)."""


class Tenant(_Config, frozen=True):
    code: str
    name_zh: str
    name_en: str
    short_name_zh: str
    level: Level
    time_zone: str
    co_organisers: list[str]
    key_domains: list[str]
    contact: Contact
    programmes: dict[Programme, ProgrammeConfig]
    key_industries: list[IndustryGroup]
    recommending_units: list[RecommendingUnit]
    national_parent: str | None = None
    claim_verifiers: ClaimVerifiers = ClaimVerifiers.SECRETARIAT
    """Who verifies an enterprise's claim (business licence and sealed authorisation letter):
    the secretariat alone, or also the recommending units for enterprises filed under them."""

    @property
    def schema(self) -> str:
        """The PostgreSQL schema of this tenant: lowercase and never an SQL keyword."""
        return f"t_{self.code}"

    @property
    def zone(self) -> zoneinfo.ZoneInfo:
        return zoneinfo.ZoneInfo(self.time_zone)

    def unit(self, code: str) -> RecommendingUnit | None:
        return next((u for u in self.recommending_units if u.code == code), None)

    def offers(self, programme: Programme) -> bool:
        return programme in self.programmes


def load_tenant(path: Path) -> Tenant:
    try:
        tenant = msgspec.toml.decode(path.read_bytes(), type=Tenant)
    except msgspec.ValidationError as e:
        raise TenantConfigError(f"{path}: {_field_message(e)}") from None
    except (msgspec.DecodeError, OSError) as e:
        raise TenantConfigError(f"{path}: {e}") from None
    problems = list(_problems(tenant, path.stem))
    if problems:
        raise TenantConfigError(f"{path}: " + "; ".join(problems))
    return tenant


def _field_message(error: msgspec.ValidationError) -> str:
    # msgspec says "Expected `str`, got `int` - at `$.contact.phone`"; lead with the field.
    text = str(error)
    message, sep, where = text.rpartition(" - at ")
    if not sep:
        return text
    field = where.strip("`").removeprefix("$").removeprefix(".") or "(top level)"
    return f"{field}: {message}"


def _problems(tenant: Tenant, stem: str) -> Iterator[str]:
    if not TENANT_CODE.match(tenant.code):
        yield f"code: {tenant.code!r} must be 2-16 lowercase letters or digits, starting with a letter"
    if tenant.code != stem:
        yield f"code: {tenant.code!r} must equal the file name {stem!r}"
    for field in ("name_zh", "name_en", "short_name_zh"):
        if not getattr(tenant, field).strip():
            yield f"{field}: must not be empty"
    try:
        zoneinfo.ZoneInfo(tenant.time_zone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        yield f"time_zone: {tenant.time_zone!r} is not a known time zone"
    if tenant.level is Level.NATIONAL and tenant.national_parent is not None:
        yield "national_parent: a national tenant has no national parent"
    if tenant.level is not Level.NATIONAL and tenant.national_parent is None:
        yield "national_parent: required for a provincial or industry tenant"
    if not tenant.programmes:
        yield "programmes: at least one programme is required"
    for programme, config in tenant.programmes.items():
        if not config.grades:
            yield f"programmes.{programme}.grades: at least one grade is required"
        for field, count in Counter(g.code for g in config.grades).items():
            if count > 1:
                yield f"programmes.{programme}.grades: code {field!r} appears {count} times"
    if "@" not in tenant.contact.email:
        yield f"contact.email: {tenant.contact.email!r} is not an e-mail address"
    if not tenant.key_domains:
        yield "key_domains: at least one domain is required"
    yield from _unit_problems(tenant)


def _unit_problems(tenant: Tenant) -> Iterator[str]:
    if not tenant.recommending_units:
        yield "recommending_units: at least one recommending unit is required"
    for i, unit in enumerate(tenant.recommending_units):
        if not UNIT_CODE.match(unit.code):
            yield f"recommending_units[{i}].code: {unit.code!r} must be lowercase [a-z0-9_]"
        if not unit.name_zh.strip():
            yield f"recommending_units[{i}].name_zh: must not be empty"
    for attribute in ("code", "name_zh"):
        counts = Counter(getattr(u, attribute) for u in tenant.recommending_units)
        for value, count in counts.items():
            if count > 1:
                yield f"recommending_units: {attribute} {value!r} appears {count} times"
    direct = [u for u in tenant.recommending_units if u.kind is UnitKind.DIRECT]
    if len(direct) > 1:
        yield "recommending_units: at most one direct channel (kind = direct)"


class TenantRegistry:
    """All tenants of this platform, read from `<dir>/*.toml` once at start."""

    def __init__(self, tenants: list[Tenant]) -> None:
        self._tenants = {t.code: t for t in sorted(tenants, key=lambda t: t.code)}
        problems = list(self._edge_problems())
        if problems:
            raise TenantConfigError("; ".join(problems))

    @classmethod
    def load(cls, directory: Path) -> TenantRegistry:
        files = sorted(directory.glob("*.toml"))
        if not files:
            raise TenantConfigError(f"{directory}: no tenant files (*.toml)")
        return cls([load_tenant(path) for path in files])

    def _edge_problems(self) -> Iterator[str]:
        """The parent-child edges: each child is exactly one unit of its national parent."""
        for tenant in self._tenants.values():
            where = f"{tenant.code}.toml"
            parent = tenant.national_parent
            if parent is not None:
                if parent not in self._tenants:
                    yield f"{where}: national_parent: no tenant {parent!r}"
                elif self._tenants[parent].level is not Level.NATIONAL:
                    yield f"{where}: national_parent: {parent!r} is not a national tenant"
                else:
                    yield from self._child_edge_problems(tenant, self._tenants[parent])
            for i, unit in enumerate(tenant.recommending_units):
                if unit.tenant is None:
                    continue
                child = self._tenants.get(unit.tenant)
                if child is None:
                    yield f"{where}: recommending_units[{i}].tenant: no tenant {unit.tenant!r}"
                elif child.national_parent != tenant.code:
                    yield (
                        f"{where}: recommending_units[{i}].tenant: {unit.tenant!r} has"
                        f" national_parent {child.national_parent!r}, not {tenant.code!r}"
                    )

    @staticmethod
    def _child_edge_problems(child: Tenant, parent: Tenant) -> Iterator[str]:
        count = sum(u.tenant == child.code for u in parent.recommending_units)
        if count != 1:
            found = "no unit has it" if count == 0 else f"{count} units have it"
            yield (
                f"{parent.code}.toml: recommending_units: {child.code}.toml names"
                f" {parent.code!r} as national_parent, so exactly one unit must have"
                f" tenant = {child.code!r} (forwarding goes only along that edge); {found}"
            )

    def __iter__(self) -> Iterator[Tenant]:
        return iter(self._tenants.values())

    def __len__(self) -> int:
        return len(self._tenants)

    def get(self, code: str) -> Tenant | None:
        return self._tenants.get(code)

    def national_unit(self, code: str) -> RecommendingUnit | None:
        """The national parent's recommending unit that stands for tenant `code`: the edge
        its forwarding takes. None for a national tenant; KeyError for an unknown code."""
        parent = self._tenants[code].national_parent
        if parent is None:
            return None
        return next(u for u in self._tenants[parent].recommending_units if u.tenant == code)

    def members(self, national_code: str) -> list[Tenant]:
        """The tenants whose national parent is `national_code`, in code order."""
        return [t for t in self._tenants.values() if t.national_parent == national_code]
