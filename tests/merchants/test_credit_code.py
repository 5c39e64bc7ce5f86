import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.merchants.validation import CREDIT_CODE_CHARS, credit_code_check_char, is_valid_credit_code


@pytest.mark.parametrize("code", ["91350100M000100Y43", "91110000600037341L", "911100007109288314"])
def test_real_credit_codes_pass(code):
    assert is_valid_credit_code(code)


@pytest.mark.parametrize("code", ["", "91350100M000100Y44", "91350100M000100Y4", "91350100M000100Y433", "9135010OM000100Y43", "abc"])
def test_bad_credit_codes_fail(code):
    assert not is_valid_credit_code(code)


@given(st.text(alphabet=CREDIT_CODE_CHARS, min_size=17, max_size=17))
def test_any_body_with_its_check_char_passes_and_others_fail(body):
    check = credit_code_check_char(body)
    assert is_valid_credit_code(body + check)
    wrong = next(c for c in CREDIT_CODE_CHARS if c != check)
    assert not is_valid_credit_code(body + wrong)
