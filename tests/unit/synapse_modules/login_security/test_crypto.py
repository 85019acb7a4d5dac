"""TOTP secrets at rest: AES-GCM under a derived key, bound to the user; signed tickets."""

from __future__ import annotations

import pytest

from hearth.synapse_modules.login_security.crypto import (
    DecryptionError,
    Keys,
    decrypt_secret,
    encrypt_secret,
    sign,
    verify_signature,
)

KEYS = Keys.from_secret(b"s" * 48)


def test_round_trip_and_fresh_nonce() -> None:
    """A sealed secret opens again; sealing twice gives different ciphertexts."""
    one = encrypt_secret(KEYS, "@a:hs", "JBSWY3DPEHPK3PXP")
    two = encrypt_secret(KEYS, "@a:hs", "JBSWY3DPEHPK3PXP")
    assert one != two and one.startswith("v1.") and "JBSWY3DP" not in one
    assert decrypt_secret(KEYS, "@a:hs", one) == "JBSWY3DPEHPK3PXP"


@pytest.mark.parametrize("tamper", ["other-user", "other-key", "flipped", "garbage"])
def test_wrong_user_key_or_tampering_fails(tamper: str) -> None:
    """Another user's row, another key, a flipped bit or junk does not open."""
    sealed = encrypt_secret(KEYS, "@a:hs", "JBSWY3DPEHPK3PXP")
    user, keys = "@a:hs", KEYS
    if tamper == "other-user":
        user = "@b:hs"
    elif tamper == "other-key":
        keys = Keys.from_secret(b"t" * 48)
    elif tamper == "flipped":
        sealed = sealed[:-3] + ("A" if sealed[-3] != "A" else "B") + sealed[-2:]
    else:
        sealed = "v1.!!!"
    with pytest.raises(DecryptionError):
        decrypt_secret(keys, user, sealed)


def test_keys_are_separate_and_need_enough_secret(tmp_path) -> None:
    """Each purpose gets its own key; a short or missing secret is refused."""
    assert len({KEYS.totp, KEYS.recovery, KEYS.tickets, KEYS.csrf}) == 4
    assert "s" * 8 not in repr(KEYS)
    with pytest.raises(ValueError, match="at least 32"):
        Keys.from_secret(b"short")
    path = tmp_path / "key"
    path.write_text("x" * 64 + "\n")
    assert Keys.from_file(path) == Keys.from_secret(b"x" * 64)


def test_signatures() -> None:
    """A signature verifies for the same parts only."""
    mark = sign(KEYS.tickets, "@a:hs", "123", "csrf")
    assert verify_signature(KEYS.tickets, mark, "@a:hs", "123", "csrf")
    assert not verify_signature(KEYS.tickets, mark, "@a:hs", "124", "csrf")
    assert not verify_signature(KEYS.tickets, mark, "@a:hs123", "", "csrf")
