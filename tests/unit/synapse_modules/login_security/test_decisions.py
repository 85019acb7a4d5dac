"""The login decision: locks first, then the role's address rule, then the second factor."""

from __future__ import annotations

from dataclasses import replace

import pytest

from hearth.synapse_modules.login_security.addresses import parse_networks
from hearth.synapse_modules.login_security.decisions import (
    MFA_FIELD,
    AddressRule,
    LoginFacts,
    Outcome,
    Verdict,
    check_address,
    decide_login,
)

NOW = 1_800_000_000_000
RULE = AddressRule(allow=parse_networks(["10.0.0.0/8"]), deny=parse_networks(["10.66.0.0/16"]))


def facts(outcome: Outcome | None = Outcome.PASSWORD_OK, **changes: object) -> LoginFacts:
    verdict = Verdict("@a:hs", outcome) if outcome is not None else None
    base = LoginFacts(user_id="@a:hs", now_ms=NOW, verdict=verdict, role="member",
                      address="10.1.2.3", address_rule=None, grace_ms=7 * 86_400_000,
                      enrol_url="https://hs/_synapse/client/hearth/mfa/")
    return replace(base, **changes)  # type: ignore[arg-type]


def test_plain_password_login_is_allowed_and_resets_failures() -> None:
    decision = decide_login(facts())
    assert decision.allowed and decision.reset_account_failures and decision.notice is None


def test_account_lock_wins_over_everything() -> None:
    """Locked: 403 M_USER_LOCKED with retry_after_ms, whatever the verdict."""
    for outcome in (Outcome.PASSWORD_OK, Outcome.ACCOUNT_LOCKED, None):
        refusal = decide_login(facts(outcome, account_locked_until_ms=NOW + 60_000,
                                     verdict_required=outcome is not None)).refusal
        assert refusal is not None
        assert (refusal.status, refusal.errcode) == (403, "M_USER_LOCKED")
        assert refusal.fields["retry_after_ms"] == 60_000
        assert "locked until" in refusal.message and "about 1 minute" in refusal.message


def test_blocked_address_is_429() -> None:
    refusal = decide_login(facts(address_blocked_until_ms=NOW + 120_000)).refusal
    assert refusal is not None and (refusal.status, refusal.errcode) == (429, "M_LIMIT_EXCEEDED")
    assert "10.1.2.3" in refusal.message


@pytest.mark.parametrize(("address", "allowed"), [
    ("10.1.2.3", True), ("10.66.0.1", False), ("192.0.2.1", False), (None, False),
])
def test_address_rule(address: str | None, allowed: bool) -> None:
    """Allow list, deny list inside it, outside it, and an unknown address (fail closed)."""
    refusal = check_address("admin", address, RULE)
    assert (refusal is None) == allowed
    if refusal is not None:
        assert (refusal.status, refusal.errcode) == (403, "M_FORBIDDEN")
        assert "'admin'" in refusal.message
    assert check_address("admin", address, None) is None
    assert check_address("admin", address, AddressRule()) is None


@pytest.mark.parametrize(("outcome", "reason"), [
    (Outcome.CODE_MISSING, "code_required"),
    (Outcome.CODE_WRONG, "invalid_code"),
    (Outcome.NOT_ENROLLED, "not_enrolled"),
])
def test_second_factor_refusals(outcome: Outcome, reason: str) -> None:
    refusal = decide_login(facts(outcome, enrolled=True)).refusal
    assert refusal is not None and refusal.status == 403
    assert refusal.fields[MFA_FIELD] == reason and refusal.reason == f"mfa_{reason}"


def test_malformed_login_is_400() -> None:
    refusal = decide_login(facts(Outcome.MALFORMED)).refusal
    assert refusal is not None and (refusal.status, refusal.errcode) == (400, "M_INVALID_PARAM")
    assert "'code'" in refusal.message


@pytest.mark.parametrize("outcome", [Outcome.PENDING, Outcome.CHECK_FAILED,
                                     Outcome.PASSWORD_WRONG, Outcome.UNKNOWN_USER])
def test_unfinished_or_contradicting_checks_fail_closed(outcome: Outcome) -> None:
    refusal = decide_login(facts(outcome)).refusal
    assert refusal is not None and refusal.status == 403


def test_non_password_logins_skip_the_second_factor_but_not_rules() -> None:
    """SSO or token logins (no verdict) still meet locks and address rules."""
    assert decide_login(facts(None, mfa_required=True, verdict_required=False)).allowed
    refused = decide_login(facts(None, address="192.0.2.1", address_rule=RULE,
                                 verdict_required=False))
    assert refused.refusal is not None and refused.refusal.reason == "address_rule"


def test_required_role_grace_period() -> None:
    """Unenrolled members of a required role: notice and grace start, then refusal."""
    first = decide_login(facts(mfa_required=True))
    assert first.allowed and first.start_grace and first.notice is not None
    assert first.notice["enrol_before_ms"] == NOW + 7 * 86_400_000
    during = decide_login(facts(mfa_required=True, grace_started_ms=NOW - 86_400_000))
    assert during.allowed and not during.start_grace and during.notice is not None
    after = decide_login(facts(mfa_required=True, grace_started_ms=NOW - 8 * 86_400_000))
    assert after.refusal is not None
    assert after.refusal.fields[MFA_FIELD] == "enrolment_required"
    assert after.refusal.fields["enrolment_url"].endswith("/mfa/")
    none = decide_login(facts(mfa_required=True, grace_ms=0))
    assert none.refusal is not None  # no grace at all
    enrolled = decide_login(facts(Outcome.SECOND_FACTOR_OK, mfa_required=True, enrolled=True))
    assert enrolled.allowed and enrolled.notice is None
