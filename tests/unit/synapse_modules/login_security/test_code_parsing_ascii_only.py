"""Codes are ASCII digits or recovery codes only: every other shape is refused, never raises."""
# ruff: noqa: RUF001 - look-alike digits and letters are what these tests try

from __future__ import annotations

import pytest

from hearth.synapse_modules.login_security import totp
from hearth.synapse_modules.login_security.password_suffix import suffix_guesses
from tests.harness.logins import MALFORMED_CODES, NON_STRING_CODES

SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"

@pytest.mark.parametrize("code", MALFORMED_CODES)
def test_malformed_code_is_not_a_totp_code(code: str) -> None:
    """normalize_code refuses it, and matching_step answers None instead of raising."""
    assert totp.normalize_code(code) is None
    assert totp.matching_step(SECRET, code, 1_700_000_000) is None


@pytest.mark.parametrize("code", MALFORMED_CODES)
def test_malformed_code_is_not_a_recovery_code(code: str) -> None:
    """normalize_recovery_code refuses it."""
    assert totp.normalize_recovery_code(code) is None


@pytest.mark.parametrize("code", [
    pytest.param("\u212a3mfa-q7zpx", id="kelvin-sign-lowers-to-k"),
    pytest.param("ｋ3mfa-q7zpx", id="full-width-letter"),
    pytest.param("k3mfa-q7zp\u0131", id="dotless-i"),
    pytest.param("k3mfa\u2010q7zpx", id="unicode-hyphen"),
])
def test_non_ascii_recovery_code_is_refused(code: str) -> None:
    """A recovery code is ASCII: look-alike letters that lower-case to ASCII do not pass."""
    assert totp.normalize_recovery_code(code) is None


@pytest.mark.parametrize("value", NON_STRING_CODES)
def test_non_string_code_is_refused(value: object) -> None:
    """A JSON number, null, list or object is no code of either kind."""
    assert totp.normalize_code(value) is None
    assert totp.normalize_recovery_code(value) is None


def test_well_formed_codes_still_pass() -> None:
    """Six ASCII digits (spaces forgiven) and recovery codes (case and dash forgiven)."""
    assert totp.normalize_code("123456") == "123456"
    assert totp.normalize_code(" 123 456 ") == "123456"
    assert totp.normalize_recovery_code("K3MFA-Q7ZPX") == "k3mfa-q7zpx"
    assert totp.normalize_recovery_code("k3mfaq7zpx") == "k3mfa-q7zpx"
    step = totp.current_step(1_700_000_000)
    assert totp.matching_step(SECRET, totp.code_at(SECRET, step), 1_700_000_000) == step


@pytest.mark.parametrize("typed", [
    pytest.param("hunter2١٢٣٤٥٦", id="arabic-indic"),
    pytest.param("hunter2１２３４５６", id="full-width"),
    pytest.param("hunter2¹²³⁴⁵⁶", id="superscript"),
    pytest.param("hunter2१२३४५६", id="devanagari"),
])
def test_non_ascii_digits_after_the_password_are_not_a_code(typed: str) -> None:
    """Only ASCII digits typed after the password are read as a TOTP code."""
    assert [g for g in suffix_guesses(typed) if g.kind == "totp"] == []


def test_ascii_code_after_the_password_is_read() -> None:
    """The stock-client form still works: password then six digits, or a recovery code."""
    guesses = suffix_guesses("hunter2123456")
    assert (guesses[0].password, guesses[0].code, guesses[0].kind) == ("hunter2", "123456",
                                                                       "totp")
    recovery = suffix_guesses("hunter2k3mfa-q7zpx")
    assert (recovery[0].password, recovery[0].kind) == ("hunter2", "recovery")
