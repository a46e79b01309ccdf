"""The tenant registry: the shipped files load; a bad file is refused naming file and field."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tenants.registry import Level, TenantConfigError, TenantRegistry, UnitKind
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
    provinces = {u.tenant for u in caq.recommending_units if u.tenant}
    assert provinces == {"saq", "sdaq"}
    assert saq.schema == "t_saq"


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


def test_a_new_tenant_is_a_new_file(tenants_dir: Path) -> None:
    text = (tenants_dir / "sdaq.toml").read_text(encoding="utf-8")
    (tenants_dir / "jxaq.toml").write_text(
        text.replace('code = "sdaq"', 'code = "jxaq"').replace(
            "山东省质量管理协会", "江西省质量协会"
        ),
        encoding="utf-8",
    )
    registry = TenantRegistry.load(tenants_dir)
    assert [t.code for t in registry] == ["caq", "jxaq", "saq", "sdaq"]


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
