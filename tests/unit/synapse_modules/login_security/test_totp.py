"""TOTP verification with a one-step skew window, recovery codes, password+code parsing."""

from __future__ import annotations

import pyotp
import pytest

from hearth.synapse_modules.login_security import totp
from hearth.synapse_modules.login_security.password_suffix import suffix_guesses

SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
NOW = 1_700_000_015.0  # 15 s into a 30 s step


@pytest.mark.parametrize(("offset_s", "matches"), [
    (0, True), (-30, True), (30, True), (-60, False), (60, False), (-29, True),
])
def test_code_accepted_within_one_step_of_now(offset_s: int, matches: bool) -> None:
    """A code from a clock up to one step ahead or behind matches; further off does not."""
    code = pyotp.TOTP(SECRET).at(NOW + offset_s)
    step = totp.matching_step(SECRET, code, NOW)
    assert (step is not None) == matches
    if matches:
        assert step == int((NOW + offset_s) // 30)


def test_code_format_is_forgiving_but_strict() -> None:
    """Spaces are dropped; anything but 6 digits is refused."""
    code = pyotp.TOTP(SECRET).at(NOW)
    assert totp.matching_step(SECRET, f"{code[:3]} {code[3:]}", NOW) is not None
    for bad in ("", "12345", "1234567", "abcdef", "12345a"):
        assert totp.matching_step(SECRET, bad, NOW) is None


def test_new_secret_and_uri() -> None:
    """Secrets are 160-bit base32; the URI names issuer and account for the app."""
    secret = totp.new_secret()
    assert len(secret) == 32 and pyotp.TOTP(secret).now()
    uri = totp.provisioning_uri(secret, "@alice:example.org", "Hearth")
    assert uri.startswith("otpauth://totp/Hearth:@alice:example.org?secret=")
    assert pyotp.parse_uri(uri).secret == secret


def test_recovery_codes() -> None:
    """Ten distinct codes; case and dash forgiven; hashes are keyed."""
    codes = totp.new_recovery_codes(10)
    assert len(set(codes)) == 10
    assert all(totp.normalize_recovery_code(c) == c for c in codes)
    bare = codes[0].replace("-", "").upper()
    assert totp.normalize_recovery_code(f" {bare} ") == codes[0]
    assert totp.normalize_recovery_code("abcde-fghi1") is None  # 1 is not base32
    assert totp.hash_recovery_code(b"k1" * 16, codes[0]) != totp.hash_recovery_code(
        b"k2" * 16, codes[0])


def test_password_with_appended_code() -> None:
    """Typed password+code splits into password and code, TOTP first, then recovery."""
    guesses = suffix_guesses("hunter2123456")
    assert [(g.password, g.code, g.kind) for g in guesses] == [("hunter2", "123456", "totp")]
    guesses = suffix_guesses("hunter2abcde-fghij")
    assert [(g.password, g.code, g.kind) for g in guesses] == [
        ("hunter2", "abcde-fghij", "recovery")]
    assert suffix_guesses("123456") == []  # no password left
    assert suffix_guesses("plain-password") == []


def test_qr_svg_is_inline_svg_only() -> None:
    """The QR code is an <svg> element with no script, style or XML prologue."""
    svg = totp.qr_svg("otpauth://totp/x?secret=" + SECRET)
    assert svg.startswith("<svg") and "<script" not in svg and "style=" not in svg
