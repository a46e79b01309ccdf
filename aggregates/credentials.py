"""Passwords: the minimum strength a new password must have, and argon2 hashing.

No default, shared or fixed password exists anywhere: a password is always chosen by its owner,
through an invitation, a confirmation or a reset token.
"""

from __future__ import annotations

import re

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from aggregates.problems import InvalidInput, Problem

MIN_LENGTH = 10
MAX_LENGTH = 128

# Words that make a password guessable whatever digits and symbols surround them; includes the
# kind of shared password a platform once mailed to every user ("Admin2024@").
_COMMON_WORDS = frozenset(
    (
        "admin",
        "administrator",
        "password",
        "passw0rd",
        "qwerty",
        "qwertyuiop",
        "asdfgh",
        "abc",
        "abcd",
        "abcdef",
        "welcome",
        "root",
        "user",
        "test",
        "guest",
        "login",
        "letmein",
        "iloveyou",
        "qcflow",
        "saq",
        "sdaq",
        "caq",
        "china",
        "shanghai",
        "shandong",
        "beijing",
    )
)
_CLASSES = (r"[a-z]", r"[A-Z]", r"[0-9]", r"[^a-zA-Z0-9]")


class WeakPassword(InvalidInput):
    """The new password does not meet the minimum strength."""


def password_problems(password: str, *personal: str) -> list[Problem]:
    """Why a new password is too weak (empty when it is strong enough). `personal` are the
    owner's login and name, which the password must not contain."""
    found = []
    if len(password) < MIN_LENGTH:
        found.append(Problem("password", "min_length", f"密码至少 {MIN_LENGTH} 位"))
    if len(password) > MAX_LENGTH:
        found.append(Problem("password", "max_length", f"密码不超过 {MAX_LENGTH} 位"))
    classes = sum(1 for pattern in _CLASSES if re.search(pattern, password))
    if classes < 3 and len(password) < 16:
        found.append(
            Problem(
                "password",
                "character_classes",
                "密码须包含大写字母、小写字母、数字、符号中的至少三类（16 位以上不限）",
            )
        )
    core = re.sub(r"[^a-z]", "", password.lower())
    if core in _COMMON_WORDS or re.fullmatch(r"(.)\1+|0?1234567890?|(\d)\2+", password):
        found.append(Problem("password", "common", "密码过于常见，容易被猜中"))
    for value in personal:
        part = value.split("@")[0].lower()
        if len(part) >= 3 and part in password.lower():
            found.append(Problem("password", "personal", "密码不能包含登录名或姓名"))
            break
    return found


def check_password(password: str, *personal: str) -> None:
    problems = password_problems(password, *personal)
    if problems:
        raise WeakPassword(*problems)


class Passwords:
    """argon2id hashing with the library's recommended parameters."""

    def __init__(self, hasher: PasswordHasher | None = None) -> None:
        self._hasher = hasher or PasswordHasher()

    def hash(self, password: str) -> str:
        return self._hasher.hash(password)

    def verify(self, password_hash: str | None, password: str) -> bool:
        if password_hash is None:
            # Spend the same time as a real check, so timing does not tell which logins exist.
            self._hasher.hash(password)
            return False
        try:
            return self._hasher.verify(password_hash, password)
        except (VerificationError, InvalidHashError):
            return False
