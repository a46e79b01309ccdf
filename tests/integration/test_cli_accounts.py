"""The operator's command line: a tenant's first secretariat account, on the store the server
uses and no other, with links to the address the server is reached at."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from tenants.runtime import Platform
from tenants.settings import Settings
from tests.support import new_password, run_command


@pytest.fixture
def served(tmp_path: Path) -> Path:
    """A data directory holding a platform, as a server's first start leaves it."""
    Platform.from_settings(Settings(data_dir=tmp_path), only=["saq", "sdaq"]).close()
    return tmp_path


def qcflow(
    args: list[str], data_dir: Path, stdin: str = "", **settings: str
) -> subprocess.CompletedProcess[str]:
    env = {
        "QCFLOW_DATA_DIR": str(data_dir),
        "QCFLOW_LOG_FORMAT": "json",
        **{f"QCFLOW_{name.upper()}": value for name, value in settings.items()},
    }
    # No terminal (a session of its own): the password is read from standard input.
    return run_command(args, env, stdin, session=True)


def test_create_secretariat_asks_the_password_and_never_takes_it_as_an_argument(
    served: Path,
) -> None:
    password = new_password()
    base = [
        "accounts",
        "create-secretariat",
        "--tenant",
        "saq",
        "--login",
        "sec@saq.example.cn",
        "--name",
        "杨瑾",
    ]

    created = qcflow(base, served, stdin=f"{password}\n{password}\n")
    again = qcflow(base, served, stdin=f"{password}\n{password}\n")
    with_password_flag = qcflow([*base, "--password", password], served)

    assert created.returncode == 0, created.stderr
    assert "secretariat account sec@saq.example.cn" in created.stdout
    assert password not in created.stdout + created.stderr
    assert again.returncode == 2 and "已被注册" in again.stderr
    assert with_password_flag.returncode == 2  # argparse: no such option


def test_create_secretariat_refuses_a_weak_password(served: Path) -> None:
    result = qcflow(
        [
            "accounts",
            "create-secretariat",
            "--tenant",
            "saq",
            "--login",
            "a@saq.example.cn",
            "--name",
            "某人",
        ],
        served,
        stdin="Admin2024@\nAdmin2024@\n",
    )
    assert result.returncode == 2
    assert "password" in result.stderr


def test_create_secretariat_with_a_link_prints_the_invitation_page_at_the_served_port(
    served: Path,
) -> None:
    result = qcflow(
        [
            "accounts",
            "create-secretariat",
            "--tenant",
            "sdaq",
            "--login",
            "b@sdaq.example.cn",
            "--name",
            "范文略",
            "--link",
        ],
        served,
        port="8123",
    )
    assert result.returncode == 0, result.stderr
    assert "one-time invitation code" in result.stdout
    assert "http://127.0.0.1:8123/sdaq/invitation#code=" in result.stdout
    assert "http://127.0.0.1:8123/api/v1/tenants/sdaq/invitations/accept" in result.stdout
    assert ":8000" not in result.stdout
    assert f"SQLite files in {served.resolve()}" in result.stderr


LINKED = ["accounts", "create-secretariat", "--link"]


def test_a_public_url_wins_over_the_served_port(served: Path) -> None:
    result = qcflow(
        [*LINKED, "--tenant", "saq", "--login", "c@saq.example.cn", "--name", "某人"],
        served,
        port="8123",
        public_url="https://qcflow.example.cn/",
    )
    assert result.returncode == 0, result.stderr
    assert "https://qcflow.example.cn/saq/invitation#code=" in result.stdout


def test_a_command_refuses_a_data_directory_that_holds_no_platform(tmp_path: Path) -> None:
    """With QCFLOW_DATABASE_URL unset in the shell, a command would otherwise write into a fresh
    SQLite store that the server never reads."""
    empty = tmp_path / "elsewhere"
    result = qcflow(
        [*LINKED, "--tenant", "saq", "--login", "d@saq.example.cn", "--name", "某人"],
        empty,
    )
    assert result.returncode == 2
    assert f"no platform in {empty.resolve()} yet" in result.stderr
    assert "QCFLOW_DATABASE_URL" in result.stderr
    assert "Traceback" not in result.stderr
    assert not list(empty.rglob("*.sqlite"))  # nothing made
