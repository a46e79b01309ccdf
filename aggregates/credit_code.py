"""The unified social credit code (统一社会信用代码) of GB 32100-2015: normalise and validate it."""

from __future__ import annotations

import unicodedata

from aggregates.problems import InvalidInput, Problem

# The code's 31 characters: digits and capitals without I, O, Z, S, V; a character's value is its index.
ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
# Weight of positions 1–17: 3^(i-1) mod 31.
WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
LENGTH = 18
# Position 1, the registration authority (登记管理部门代码), as the standard's table lists them.
AUTHORITIES: dict[str, str] = {
    "1": "机构编制",
    "2": "外交",
    "3": "司法行政",
    "4": "文化",
    "5": "民政",
    "6": "旅游",
    "7": "宗教",
    "8": "工会",
    "9": "工商",
    "A": "中央军委改革和编制办公室",
    "N": "农业",
    "Y": "其他",
}
_VALUE = {character: value for value, character in enumerate(ALPHABET)}


class InvalidCreditCode(InvalidInput):
    """The value is not a valid unified social credit code (HTTP 422)."""


def check_character(first17: str) -> str:
    """The 18th character for the first 17: C18 = 31 − (Σ value × weight mod 31), 31 written "0"."""
    if len(first17) != len(WEIGHTS) or any(c not in _VALUE for c in first17):
        raise ValueError(f"expected 17 characters of {ALPHABET}, got {first17!r}")
    total = sum(_VALUE[c] * w for c, w in zip(first17, WEIGHTS, strict=True))
    return ALPHABET[(31 - total % 31) % 31]


def normalise(code: str) -> str:
    """Fold full-width forms (NFKC), strip surrounding whitespace and upper-case."""
    return unicodedata.normalize("NFKC", code).strip().upper()


def credit_code_problems(code: str, field: str = "credit_code") -> list[Problem]:
    """Every rule the (normalised) code breaks; an empty list means it is valid."""
    code = normalise(code)
    if not code:
        return [Problem(field, "required", "请填写统一社会信用代码")]
    problems: list[Problem] = []
    if len(code) != LENGTH:
        problems.append(
            Problem(field, "length", f"统一社会信用代码应为 {LENGTH} 位，实际为 {len(code)} 位")
        )
    bad = [f"第 {i} 位“{c}”" for i, c in enumerate(code, start=1) if c not in _VALUE]
    if bad:
        problems.append(
            Problem(
                field,
                "charset",
                f"统一社会信用代码{'、'.join(bad)}不是允许的字符（只用数字和大写字母，不用 I、O、Z、S、V）",
            )
        )
    if code[0] in _VALUE and code[0] not in AUTHORITIES:
        known = "、".join(f"{k} {v}" for k, v in AUTHORITIES.items())
        problems.append(
            Problem(
                field,
                "registration_authority",
                f"统一社会信用代码第 1 位登记管理部门代码“{code[0]}”无效，应为以下之一：{known}",
            )
        )
    if not problems:
        expected = check_character(code[:-1])
        if code[-1] != expected:
            problems.append(
                Problem(
                    field,
                    "check_character",
                    f"统一社会信用代码校验码应为 {expected}，实际为 {code[-1]}，请核对前 17 位是否录入有误",
                )
            )
    return problems


def validate_credit_code(code: str, field: str = "credit_code") -> str:
    """The normalised code, or InvalidCreditCode carrying every broken rule."""
    if problems := credit_code_problems(code, field):
        raise InvalidCreditCode(*problems)
    return normalise(code)
