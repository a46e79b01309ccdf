"""The unified social credit code (GB 32100-2015): real published codes pass, every slip is caught."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from aggregates.credit_code import (
    ALPHABET,
    AUTHORITIES,
    WEIGHTS,
    InvalidCreditCode,
    check_character,
    credit_code_problems,
    normalise,
    validate_credit_code,
)
from aggregates.problems import InvalidInput

# Codes the organisations publish (annual reports, EV certificates, invoice titles, charity pages).
REAL_CODES = {
    # 9 工商 — enterprises
    "icbc": "91100000100003962T",  # 中国工商银行股份有限公司
    "bank-of-china": "911000001000013428",  # 中国银行股份有限公司 (EV certificate of www.boc.cn)
    "china-construction-bank": "911100001000044477",  # 中国建设银行股份有限公司
    "china-merchants-bank": "9144030010001686XA",  # 招商银行 (EV certificate of www.cmbchina.com)
    "spd-bank": "91310000631295002H",  # 上海浦东发展银行股份有限公司
    "cnpc": "91110000100010433L",  # 中国石油天然气集团有限公司
    "saic-motor": "91310000132260250X",  # 上海汽车集团股份有限公司
    "huawei": "914403001922038216",  # 华为技术有限公司
    "tencent-shenzhen": "9144030071526726XG",  # 腾讯科技（深圳）有限公司
    "byd": "91440300192317458F",  # 比亚迪股份有限公司
    "baidu-netcom": "91110000802100433B",  # 北京百度网讯科技有限公司
    # 1 机构编制, 2 事业单位 — public institutions
    "tsinghua-university": "12100000400000624D",  # 清华大学
    "beijing-institute-of-technology": "12100000400009127B",  # 北京理工大学
    # 5 民政, 3 基金会 — social organisations
    "china-social-welfare-foundation": "53100000500019795A",  # 中国社会福利基金会
    "bit-education-foundation": "53100000500021676K",  # 北京理工大学教育基金会
}
ICBC = REAL_CODES["icbc"]
FULL_WIDTH_ICBC = "".join(chr(ord(c) + 0xFEE0) for c in ICBC)  # "９１１０…Ｔ"


def rules(code: str) -> list[str]:
    return [p.rule for p in credit_code_problems(code)]


def test_alphabet_and_weights_follow_the_standard() -> None:
    assert len(ALPHABET) == 31
    assert not set("IOZSV") & set(ALPHABET)
    assert [pow(3, i, 31) for i in range(17)] == list(WEIGHTS)
    assert set(AUTHORITIES) == set("123456789ANY")


@pytest.mark.parametrize("code", REAL_CODES.values(), ids=REAL_CODES)
def test_real_published_codes_are_valid(code: str) -> None:
    assert check_character(code[:17]) == code[17]
    assert credit_code_problems(code) == []
    assert validate_credit_code(code) == code


def test_a_sum_divisible_by_31_gives_check_character_zero() -> None:
    # Raise position 17 (weight 28) until the weighted sum is a multiple of 31: 31 - 0 is written "0".
    first17 = next(ICBC[:16] + c for c in ALPHABET if check_character(ICBC[:16] + c) == "0")
    assert validate_credit_code(first17 + "0") == first17 + "0"


@pytest.mark.parametrize(
    "typed",
    [
        " 91100000100003962t ",
        "\t91100000100003962T\n",
        "\u300091100000100003962t\u3000",  # ideographic spaces around
        FULL_WIDTH_ICBC,  # as an IME in full-width mode types it
        FULL_WIDTH_ICBC.lower(),
    ],
    ids=["lower-case-spaced", "tab-newline", "ideographic-space", "full-width", "full-width-lower"],
)
def test_typed_forms_normalise_and_pass(typed: str) -> None:
    assert normalise(typed) == ICBC
    assert credit_code_problems(typed) == []
    assert validate_credit_code(typed) == ICBC


@pytest.mark.parametrize("code", REAL_CODES.values(), ids=REAL_CODES)
def test_changing_any_one_of_the_first_17_characters_is_detected(code: str) -> None:
    for position in range(17):
        for replacement in ALPHABET.replace(code[position], ""):
            changed = code[:position] + replacement + code[position + 1 :]
            found = rules(changed)
            if position == 0 and replacement not in AUTHORITIES:
                assert found == ["registration_authority"], changed
            else:
                assert found == ["check_character"], changed


@pytest.mark.parametrize("blank", ["", "   ", "\u3000"], ids=["empty", "spaces", "ideographic"])
def test_a_blank_code_is_required(blank: str) -> None:
    assert rules(blank) == ["required"]


@pytest.mark.parametrize(
    ("code", "length"),
    [(ICBC[:17], 17), (ICBC + "0", 19), ("91100000100003962", 17), ("9", 1)],
    ids=["dropped-check-character", "one-too-many", "seventeen", "one"],
)
def test_a_wrong_length_is_reported(code: str, length: int) -> None:
    (problem,) = credit_code_problems(code)
    assert (problem.rule, problem.field) == ("length", "credit_code")
    assert f"实际为 {length} 位" in problem.message


@pytest.mark.parametrize("letter", list("IOZSV"))
def test_forbidden_letters_are_named_with_their_position(letter: str) -> None:
    code = ICBC[:9] + letter + ICBC[10:]
    (problem,) = credit_code_problems(code)
    assert problem.rule == "charset"
    assert f"第 10 位“{letter}”" in problem.message
    # lower-case i/o/z/s/v are upper-cased, not waved through
    assert rules(code.lower()) == ["charset"]


def test_every_bad_character_is_named() -> None:
    (problem,) = credit_code_problems("9110000010000396-I")
    assert problem.rule == "charset"
    assert "第 17 位“-”" in problem.message
    assert "第 18 位“I”" in problem.message


@pytest.mark.parametrize("authority", ["0", "B", "C", "M", "X"])
def test_a_registration_authority_outside_the_standard_is_refused(authority: str) -> None:
    code = authority + ICBC[1:17]
    code += check_character(code)  # a correct check character: only the authority is wrong
    (problem,) = credit_code_problems(code)
    assert problem.rule == "registration_authority"
    assert f"“{authority}”" in problem.message


@pytest.mark.parametrize("authority", sorted(AUTHORITIES))
def test_every_authority_of_the_standard_is_accepted(authority: str) -> None:
    code = authority + ICBC[1:17]
    assert credit_code_problems(code + check_character(code)) == []


def test_a_wrong_check_character_names_the_expected_one() -> None:
    (problem,) = credit_code_problems(ICBC[:17] + "A", field="applicant.credit_code")
    assert problem.rule == "check_character"
    assert problem.field == "applicant.credit_code"
    assert "校验码应为 T" in problem.message
    assert "实际为 A" in problem.message


def test_validate_raises_with_every_problem() -> None:
    with pytest.raises(InvalidCreditCode) as refused:
        validate_credit_code("O1100000100003962", field="unit.credit_code")
    assert isinstance(refused.value, InvalidInput)
    assert [(p.field, p.rule) for p in refused.value.problems] == [
        ("unit.credit_code", "length"),
        ("unit.credit_code", "charset"),
    ]


@pytest.mark.parametrize("first17", ["", ICBC[:16], ICBC, "9110000010000396I"])
def test_check_character_refuses_what_is_not_17_code_characters(first17: str) -> None:
    with pytest.raises(ValueError, match="17 characters"):
        check_character(first17)


@given(st.text(max_size=30))
def test_any_text_is_either_accepted_or_refused_with_named_rules(text: str) -> None:
    problems = credit_code_problems(text)
    if problems:
        with pytest.raises(InvalidCreditCode):
            validate_credit_code(text)
    else:
        assert check_character(validate_credit_code(text)[:17]) == normalise(text)[17]
