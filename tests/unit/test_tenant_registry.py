"""The tenant registry: the shipped files load; a bad file is refused naming file and field."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tenants.registry import ClaimVerifiers, Level, TenantConfigError, TenantRegistry, UnitKind
from tenants.settings import TENANTS_DIR


@pytest.fixture
def tenants_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "tenants"
    folder.mkdir()
    for path in TENANTS_DIR.glob("*.toml"):
        shutil.copy(path, folder / path.name)
    return folder


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, old
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def test_the_shipped_tenants_load_with_their_units_and_lists() -> None:
    registry = TenantRegistry.load(TENANTS_DIR)
    saq, sdaq, caq = (registry.get(code) for code in ("saq", "sdaq", "caq"))
    assert saq is not None and sdaq is not None and caq is not None

    assert (saq.name_zh, sdaq.name_zh, caq.name_zh) == (
        "上海市质量协会",
        "山东省质量管理协会",
        "中国质量协会",
    )
    assert saq.national_parent == sdaq.national_parent == "caq"
    assert caq.level is Level.NATIONAL and caq.national_parent is None
    districts = [u for u in saq.recommending_units if u.kind is UnitKind.DISTRICT]
    cities = [u for u in sdaq.recommending_units if u.kind is UnitKind.CITY]
    assert len(districts) == 16 and len(cities) == 16
    direct = [u for u in saq.recommending_units if u.kind is UnitKind.DIRECT]
    assert [u.name_zh for u in direct] == ["其他-市质协会员与质量推进部"]
    assert [g.name_zh for g in saq.programmes["qc_group"].grades] == ["标杆级", "优秀级", "推进级"]
    assert caq.programmes["qc_group"].grades[0].name_zh == "全国优秀质量管理小组"
    assert "集成电路" in saq.key_industries[0].names
    assert "“专精特新”中小企业" in saq.key_domains
    members = {u.tenant for u in caq.recommending_units if u.tenant}
    assert members == {"cmiqa", "saq", "sdaq"}
    assert saq.schema == "t_saq"


def test_the_industry_tenant_forwards_to_the_national_one_like_a_province() -> None:
    registry = TenantRegistry.load(TENANTS_DIR)
    assert [t.code for t in registry] == ["caq", "cmiqa", "saq", "sdaq"]
    cmiqa = registry.get("cmiqa")
    assert cmiqa is not None
    assert (cmiqa.name_zh, cmiqa.level, cmiqa.national_parent) == (
        "中国机械工业质量管理协会",
        Level.INDUSTRY,
        "caq",
    )
    assert set(cmiqa.programmes) == {"qc_group", "team"}
    direct = [u for u in cmiqa.recommending_units if u.kind is UnitKind.DIRECT]
    assert [u.name_zh for u in direct] == ["其他-协会会员单位直接受理"]

    saq_unit, cmiqa_unit = registry.national_unit("saq"), registry.national_unit("cmiqa")
    assert saq_unit is not None and saq_unit.code == "shanghai"
    assert cmiqa_unit is not None and cmiqa_unit.code == "machinery"
    assert registry.national_unit("caq") is None
    with pytest.raises(KeyError):
        registry.national_unit("nowhere")
    assert [t.code for t in registry.members("caq")] == ["cmiqa", "saq", "sdaq"]
    assert registry.members("saq") == []


@pytest.mark.parametrize(
    ("file", "old", "new", "expected"),
    [
        (
            "saq.toml",
            'kind = "district"',
            'kind = "distrct"',
            "saq.toml: recommending_units[0].kind",
        ),
        ("sdaq.toml", 'name_zh = "山东省质量管理协会"', "name_zh = 42", "sdaq.toml: name_zh"),
        (
            "saq.toml",
            'time_zone = "Asia/Shanghai"',
            'time_zone = "Asia/Shangai"',
            "saq.toml: time_zone",
        ),
        ("saq.toml", 'code = "saq"', 'code = "shanghai"', "saq.toml: code"),
        ("sdaq.toml", 'national_parent = "caq"', 'national_parent = "cnaq"', "national_parent"),
        ("saq.toml", 'level = "provincial"', 'level = "provincial"\ncolour = "red"', "saq.toml"),
        (
            "caq.toml",
            'email = "66073178@163.com"',
            'email = "66073178.163.com"',
            "caq.toml: contact.email",
        ),
        ("saq.toml", "[programmes.team]", "[programmes.team]\ngrades = []\n[unused]", "saq.toml"),
    ],
    ids=[
        "bad unit kind",
        "wrong type",
        "unknown zone",
        "code not file name",
        "no such parent",
        "unknown key",
        "bad e-mail",
        "broken toml",
    ],
)
def test_a_bad_tenant_file_is_refused_with_its_name_and_field(
    tenants_dir: Path, file: str, old: str, new: str, expected: str
) -> None:
    edit(tenants_dir / file, old, new)
    with pytest.raises(TenantConfigError) as refused:
        TenantRegistry.load(tenants_dir)
    assert expected in str(refused.value)


def test_a_duplicate_unit_code_is_refused(tenants_dir: Path) -> None:
    edit(tenants_dir / "saq.toml", 'code = "huangpu"', 'code = "xuhui"')
    with pytest.raises(
        TenantConfigError, match=r"saq.toml: recommending_units: code 'xuhui' appears 2 times"
    ):
        TenantRegistry.load(tenants_dir)


@pytest.mark.parametrize(
    ("file", "old", "new", "expected"),
    [
        (
            "caq.toml",
            'tenant = "cmiqa"\n',
            "",
            r"caq.toml: recommending_units: cmiqa.toml names 'caq' as national_parent, "
            r"so exactly one unit must have tenant = 'cmiqa' .*; no unit has it",
        ),
        (
            "caq.toml",
            'name_zh = "北京质量协会"\n',
            'name_zh = "北京质量协会"\ntenant = "saq"\n',
            r"caq.toml: recommending_units: .* tenant = 'saq' .*; 2 units have it",
        ),
        (
            "saq.toml",
            'kind = "direct"\n',
            'kind = "direct"\ntenant = "sdaq"\n',
            r"saq.toml: recommending_units\[\d+\].tenant: 'sdaq' has national_parent 'caq', "
            r"not 'saq'",
        ),
    ],
    ids=["parent does not list the child", "parent lists it twice", "unit names another's child"],
)
def test_forwarding_goes_only_along_the_parent_edge(
    tenants_dir: Path, file: str, old: str, new: str, expected: str
) -> None:
    edit(tenants_dir / file, old, new)
    with pytest.raises(TenantConfigError, match=expected):
        TenantRegistry.load(tenants_dir)


def test_a_new_tenant_is_a_new_file(tenants_dir: Path) -> None:
    text = (tenants_dir / "sdaq.toml").read_text(encoding="utf-8")
    (tenants_dir / "jxaq.toml").write_text(
        text.replace('code = "sdaq"', 'code = "jxaq"').replace(
            "山东省质量管理协会", "江西省质量协会"
        ),
        encoding="utf-8",
    )
    edit(
        tenants_dir / "caq.toml",
        'name_zh = "江西省质量协会"\nkind = "association"\n',
        'name_zh = "江西省质量协会"\nkind = "association"\ntenant = "jxaq"\n',
    )
    registry = TenantRegistry.load(tenants_dir)
    assert [t.code for t in registry] == ["caq", "cmiqa", "jxaq", "saq", "sdaq"]
    jiangxi = registry.national_unit("jxaq")
    assert jiangxi is not None and jiangxi.code == "jiangxi"


def test_start_up_stops_on_a_bad_file_naming_it(tenants_dir: Path, tmp_path: Path) -> None:
    edit(tenants_dir / "saq.toml", 'kind = "district"', 'kind = "distrct"')
    result = subprocess.run(
        [sys.executable, "-m", "api.cli", "tenants", "check"],
        env={
            "QCFLOW_TENANTS_DIR": str(tenants_dir),
            "QCFLOW_DATA_DIR": str(tmp_path / "var"),
            "PATH": "/usr/bin:/bin",
            "PYTHONPATH": str(Path(__file__).parents[2]),
        },
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2
    assert "saq.toml: recommending_units[0].kind" in result.stderr
    assert "Traceback" not in result.stderr


def test_verifying_enterprise_claims_may_be_delegated_to_recommending_units(
    tenants_dir: Path,
) -> None:
    shipped = TenantRegistry.load(tenants_dir).get("saq")
    assert shipped is not None and shipped.claim_verifiers is ClaimVerifiers.SECRETARIAT
    edit(
        tenants_dir / "saq.toml",
        'code = "saq"',
        'code = "saq"\nclaim_verifiers = "recommending_units"',
    )
    delegated = TenantRegistry.load(tenants_dir).get("saq")
    assert delegated is not None
    assert delegated.claim_verifiers is ClaimVerifiers.RECOMMENDING_UNITS
    edit(tenants_dir / "saq.toml", '"recommending_units"', '"districts"')
    with pytest.raises(TenantConfigError, match=r"saq\.toml: claim_verifiers"):
        TenantRegistry.load(tenants_dir)
