"""How a platform starts for tests: only the tenants a test names, and a cheap password hasher
unless the test asks for the real one (tests/conftest.py); without either option, every tenant
and argon2 at its recommended cost, as in production."""

from __future__ import annotations

import psycopg
import pytest
from argon2 import PasswordHasher, extract_parameters

from projections.forwarding import edges
from tenants.runtime import Platform
from tenants.settings import Settings

PASSWORD = "Mx7#river-bend"


def parameters_of(platform: Platform, tenant: str) -> tuple[int, int, int]:
    hashed = platform.tenants[tenant].ledger.passwords.hash(PASSWORD)
    assert platform.tenants[tenant].ledger.passwords.verify(hashed, PASSWORD)
    found = extract_parameters(hashed)
    return found.time_cost, found.memory_cost, found.parallelism


def test_a_test_platform_hashes_with_the_cheapest_argon2(platform: Platform) -> None:
    assert {parameters_of(platform, code) for code in platform.tenants} == {(1, 8, 1)}


@pytest.mark.real_hasher
@pytest.mark.tenants("saq")
def test_a_test_marked_real_hasher_hashes_as_production_does(platform: Platform) -> None:
    recommended = PasswordHasher()
    expected = (recommended.time_cost, recommended.memory_cost, recommended.parallelism)
    assert expected != (1, 8, 1)
    assert parameters_of(platform, "saq") == expected


def test_without_options_a_platform_starts_every_tenant_hashing_at_the_recommended_cost(
    settings: Settings,
) -> None:
    platform = Platform.from_settings(settings)
    try:
        assert set(platform.tenants) == {"caq", "cmiqa", "saq", "sdaq"}
        recommended = PasswordHasher()
        assert parameters_of(platform, "saq") == (
            recommended.time_cost,
            recommended.memory_cost,
            recommended.parallelism,
        )
    finally:
        platform.close()


@pytest.mark.tenants("sdaq", "caq")
def test_only_the_named_tenants_start_and_the_registry_stays_whole(
    platform: Platform, settings: Settings
) -> None:
    assert set(platform.tenants) == {"caq", "sdaq"}
    assert platform.get("saq") is None
    assert {t.code for t in platform.registry} == {"caq", "cmiqa", "saq", "sdaq"}
    assert [(e.member.tenant.code, e.national.tenant.code) for e in edges(platform)] == [
        ("sdaq", "caq")
    ]
    if settings.database_url is not None:
        with psycopg.connect(settings.database_url) as conn:
            schemas = conn.execute(
                "SELECT schema_name FROM information_schema.schemata"
                " WHERE schema_name LIKE 't\\_%' ORDER BY schema_name"
            ).fetchall()
        assert [s for (s,) in schemas] == ["t_caq", "t_sdaq"]
    else:
        stores = sorted(p.name for p in settings.data_dir.iterdir() if p.name != "files")
        assert stores == ["caq", "sdaq"]


def test_an_unknown_tenant_to_start_is_refused_by_name(settings: Settings) -> None:
    with pytest.raises(ValueError, match=r"no such tenants in the registry: \['nowhere'\]"):
        Platform.from_settings(settings, only=("saq", "nowhere"))
