"""The operator's command line creates a tenant's first secretariat account."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.support import new_password

ROOT = Path(__file__).parents[2]


def qcflow(args: list[str], data_dir: Path, stdin: str = "") -> subprocess.CompletedProcess[str]:
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "PYTHONPATH": str(ROOT),
        "QCFLOW_DATA_DIR": str(data_dir),
        "QCFLOW_LOG_FORMAT": "json",
    }
    return subprocess.run(
        [sys.executable, "-m", "api.cli", *args],
        input=stdin,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        start_new_session=True,  # no terminal: the password is read from standard input
    )


def test_create_secretariat_asks_the_password_and_never_takes_it_as_an_argument(
    tmp_path: Path,
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

    created = qcflow(base, tmp_path, stdin=f"{password}\n{password}\n")
    again = qcflow(base, tmp_path, stdin=f"{password}\n{password}\n")
    with_password_flag = qcflow([*base, "--password", password], tmp_path)

    assert created.returncode == 0, created.stderr
    assert "secretariat account sec@saq.example.cn" in created.stdout
    assert password not in created.stdout + created.stderr
    assert again.returncode == 2 and "已被注册" in again.stderr
    assert with_password_flag.returncode == 2  # argparse: no such option


def test_create_secretariat_refuses_a_weak_password(tmp_path: Path) -> None:
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
        tmp_path,
        stdin="Admin2024@\nAdmin2024@\n",
    )
    assert result.returncode == 2
    assert "password" in result.stderr


def test_create_secretariat_with_a_link_prints_a_one_time_code(tmp_path: Path) -> None:
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
        tmp_path,
    )
    assert result.returncode == 0, result.stderr
    assert "one-time invitation code" in result.stdout
    assert "/api/v1/tenants/sdaq/invitations/accept" in result.stdout
