"""Request notes are never evicted for room, and a password login without a verdict fails."""

from __future__ import annotations

import io
from types import SimpleNamespace

from hearth.synapse_modules.login_security.decisions import (
    LoginFacts,
    Outcome,
    Verdict,
    decide_login,
)
from hearth.synapse_modules.login_security.gate import login_type
from hearth.synapse_modules.login_security.request_notes import RequestNote, RequestNotes, Route

NOW = 1_800_000_000_000


def note(login: str | None = "m.login.password") -> RequestNote:
    return RequestNote(Route.LOGIN, "192.0.2.1", "192.0.2.1", login)


def test_a_full_map_refuses_new_notes_and_keeps_the_live_ones() -> None:
    """Filling past capacity evicts nothing: the extra requests simply get no note."""
    notes = RequestNotes(capacity=3, clock=lambda: 0.0)
    live = note()
    assert notes.add("POST-1", live)
    for i in range(2, 50):
        notes.add(f"POST-{i}", note())
    assert notes.get("POST-1") is live and len(notes) == 3
    assert notes.get("POST-49") is None
    notes.discard("POST-2")  # a request finished: room for the next one
    assert notes.add("POST-50", note()) and notes.get("POST-50") is not None


def test_notes_expire_after_their_ttl() -> None:
    """A note Synapse never finished is gone after the TTL (and frees its room)."""
    now = [0.0]
    notes = RequestNotes(ttl_s=10, capacity=1, clock=lambda: now[0])
    assert notes.add("POST-1", note())
    now[0] = 11
    assert notes.get("POST-1") is None
    assert notes.add("POST-2", note())
    assert notes.get(None) is None


def test_only_password_less_login_types_go_without_a_verdict() -> None:
    """Tokens, JWT and appservices need none; password, TOTP, unknown and unreadable do."""
    for kind in ("m.login.token", "org.matrix.login.jwt", "m.login.application_service"):
        assert not note(kind).needs_verdict
    for needing in ("m.login.password", "org.hearth.login.totp", "m.login.other", None):
        assert note(needing).needs_verdict


def test_a_password_login_without_a_verdict_is_refused() -> None:
    """The decision refuses when our check never ran; a non-password login goes on."""
    facts = LoginFacts(user_id="@a:hs", now_ms=NOW, verdict=None, role="member",
                       address="192.0.2.1", address_rule=None)
    refused = decide_login(facts)
    assert refused.refusal is not None and refused.refusal.reason == "verdict_missing"
    assert refused.refusal.status == 403
    allowed = decide_login(LoginFacts(user_id="@a:hs", now_ms=NOW, verdict=None,
                                      role="member", address="192.0.2.1", address_rule=None,
                                      verdict_required=False))
    assert allowed.allowed
    wrong = decide_login(LoginFacts(user_id="@a:hs", now_ms=NOW, role="member",
                                    verdict=Verdict("@a:hs", Outcome.PASSWORD_WRONG),
                                    address="192.0.2.1", address_rule=None,
                                    account_locked_until_ms=NOW + 1))
    assert wrong.refusal is not None and wrong.refusal.reason == "wrong_password"


def test_the_gate_reads_the_login_type_and_leaves_the_body_for_synapse() -> None:
    """The body's type, as JSON gives it; the read position is put back."""
    cases: list[tuple[bytes, str | None]] = [
        (b'{"type": "m.login.token"}', "m.login.token"),
        (b'{"type": 7}', None), (b"[1]", None), (b"{not json", None),
        (b"[" * 100_000, None), (b'{"type": "\\ud800"}', "\ud800"),
    ]
    for raw, expected in cases:
        content = io.BytesIO(raw)
        assert login_type(SimpleNamespace(content=content)) == expected, raw
        assert content.tell() == 0
    assert login_type(SimpleNamespace(content=None)) is None
