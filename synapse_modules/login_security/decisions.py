"""Whether a login may go ahead, and what to tell the person if not (pure, no Synapse).

The password auth provider checks the credentials and leaves an ``Outcome`` for the
request; the login spam check then gathers the stored facts (locks, the role's address
rule, enrolment, grace period) and ``decide_login`` turns them into an allowed login or a
``Refusal`` with the HTTP status, Matrix errcode and a message a person understands.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import Enum
from typing import Any

from hearth.synapse_modules.login_security.addresses import IPNetwork, address_key, in_networks

MFA_FIELD = "org.hearth.mfa"
LOCKED_UNTIL_FIELD = "org.hearth.locked_until_ms"


class Outcome(Enum):
    """What the credential check found, for one login request."""

    PENDING = "pending"  # the check started and never finished: it crashed
    CHECK_FAILED = "check_failed"  # the check raised; fail closed
    PASSWORD_OK = "password_ok"  # noqa: S105 - right password, no second factor set up
    SECOND_FACTOR_OK = "second_factor_ok"  # right password and a valid code
    CODE_MISSING = "code_missing"  # right password, second factor set up, no code given
    CODE_WRONG = "code_wrong"  # right password, wrong, expired or reused code
    NOT_ENROLLED = "not_enrolled"  # the TOTP login type for an account without TOTP
    PASSWORD_WRONG = "password_wrong"  # noqa: S105 - an outcome, not a password
    UNKNOWN_USER = "unknown_user"
    ACCOUNT_LOCKED = "account_locked"  # refused before any check (login only)
    ADDRESS_BLOCKED = "address_blocked"  # refused before any check (login only)
    MALFORMED = "malformed"  # password or code not a string, or a lone surrogate (login only)

    @property
    def password_proven(self) -> bool:
        return self in (Outcome.PASSWORD_OK, Outcome.SECOND_FACTOR_OK, Outcome.CODE_MISSING,
                        Outcome.CODE_WRONG, Outcome.NOT_ENROLLED)


@dataclass
class Verdict:
    """The credential check's finding for one request; the login spam check reads it."""

    user_id: str
    outcome: Outcome
    second_factor: str | None = None  # "totp" or "recovery" when one was used
    notice: dict[str, Any] | None = None  # extra field for the login response (grace period)


@dataclass(frozen=True)
class AddressRule:
    """Ranges a role may log in from (empty: anywhere) and ranges it may not."""

    allow: tuple[IPNetwork, ...] = ()
    deny: tuple[IPNetwork, ...] = ()


@dataclass(frozen=True)
class Refusal:
    """A refused login: status, errcode, message, extra JSON fields, and a metric label."""

    status: int
    errcode: str
    message: str
    reason: str
    fields: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class LoginFacts:
    """Everything ``decide_login`` looks at, gathered by the caller."""

    user_id: str
    now_ms: int
    verdict: Verdict | None  # None: our credential check did not run for this login
    role: str
    address: str | None
    address_rule: AddressRule | None
    account_locked_until_ms: int | None = None
    address_blocked_until_ms: int | None = None
    enrolled: bool = False
    mfa_required: bool = False
    grace_started_ms: int | None = None
    grace_ms: int = 0
    enrol_url: str = ""
    # The login type carries a password, so our check must have left a verdict. False only
    # for SSO and module login tokens, JWT and appservice logins (no password to check).
    verdict_required: bool = True


@dataclass(frozen=True)
class Decision:
    """Allowed (with what to record) or refused."""

    refusal: Refusal | None = None
    reset_account_failures: bool = False
    start_grace: bool = False
    notice: dict[str, Any] | None = None

    @property
    def allowed(self) -> bool:
        return self.refusal is None


def format_when(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%d %H:%M UTC")


def format_wait(ms: int) -> str:
    minutes = max(1, math.ceil(ms / 60_000))
    if minutes < 120:
        return f"about {minutes} minute{'s' if minutes != 1 else ''}"
    return f"about {math.ceil(minutes / 60)} hours"


def account_locked(until_ms: int, now_ms: int) -> Refusal:
    wait = max(0, until_ms - now_ms)
    return Refusal(
        403, "M_USER_LOCKED",
        f"Too many failed logins: this account is locked until {format_when(until_ms)} "
        f"({format_wait(wait)} from now). Try again then, or ask an administrator to "
        "unlock it.",
        "account_locked",
        {"retry_after_ms": wait, LOCKED_UNTIL_FIELD: until_ms},
    )


def address_blocked(address: str | None, until_ms: int, now_ms: int) -> Refusal:
    wait = max(0, until_ms - now_ms)
    key = address_key(address) if address else "unknown"
    where = f"network ({key})" if "/" in key else f"address ({key})"
    return Refusal(
        429, "M_LIMIT_EXCEEDED",
        f"Too many failed logins from your {where}: logins from it "
        f"are refused until {format_when(until_ms)} ({format_wait(wait)} from now).",
        "address_blocked",
        {"retry_after_ms": wait, LOCKED_UNTIL_FIELD: until_ms},
    )


def check_address(role: str, address: str | None, rule: AddressRule | None) -> Refusal | None:
    """A refusal when the role's rule forbids logging in from ``address``."""
    if rule is None or (not rule.allow and not rule.deny):
        return None
    if address is None:
        return Refusal(
            403, "M_FORBIDDEN",
            f"Your address could not be determined, and accounts with the role '{role}' may "
            "log in only from allowed addresses.",
            "address_rule",
        )
    if in_networks(address, rule.deny) or (rule.allow and not in_networks(address, rule.allow)):
        return Refusal(
            403, "M_FORBIDDEN",
            f"Accounts with the role '{role}' may not log in from {address}. Log in from an "
            "allowed network, or ask an administrator.",
            "address_rule",
        )
    return None


def _mfa(reason: str, message: str, **extra: Any) -> Refusal:
    return Refusal(403, "M_FORBIDDEN", message, f"mfa_{reason}", {MFA_FIELD: reason, **extra})


CODE_REQUIRED = (
    "This account uses two-factor authentication: type the 6-digit code from your "
    "authenticator app right after your password, with no space (or a recovery code, with "
    "its dash), or use the login type org.hearth.login.totp."
)
CODE_WRONG = ("The one-time code is wrong, expired or already used. Wait for the next code "
              "in your authenticator app and try again.")
NOT_ENROLLED = ("This account has no authenticator set up: log in with m.login.password "
                "and your password only.")
CHECK_FAILED = "Your login could not be checked just now. Please try again in a moment."
WRONG_PASSWORD = "Invalid username or password"  # noqa: S105 - Synapse's own wording
MALFORMED = ("Invalid login: 'password' must be a string of Unicode text (no lone "
             "surrogates) and 'code' a string ('code' is the 6-digit code or a recovery code)")


def decide_login(facts: LoginFacts) -> Decision:
    """The login spam check's decision, in order: locks, address rule, second factor."""
    verdict = facts.verdict
    outcome = verdict.outcome if verdict is not None else None
    if outcome in (Outcome.PENDING, Outcome.CHECK_FAILED):
        return Decision(Refusal(403, "M_FORBIDDEN", CHECK_FAILED, "check_failed"))
    if verdict is None and facts.verdict_required:
        # A password login our check never saw (or whose verdict was lost): refuse.
        return Decision(Refusal(403, "M_FORBIDDEN", CHECK_FAILED, "verdict_missing"))
    if outcome is Outcome.MALFORMED:
        return Decision(Refusal(400, "M_INVALID_PARAM", MALFORMED, "malformed"))
    if outcome is Outcome.PASSWORD_WRONG:
        # Answered before the locks: this failure may have just started one, and says so
        # only at the next attempt, the way the failure that locks is answered everywhere.
        return Decision(Refusal(403, "M_FORBIDDEN", WRONG_PASSWORD, "wrong_password"))
    if outcome is Outcome.ACCOUNT_LOCKED or facts.account_locked_until_ms is not None:
        until = facts.account_locked_until_ms or facts.now_ms
        return Decision(account_locked(until, facts.now_ms))
    if outcome is Outcome.ADDRESS_BLOCKED or facts.address_blocked_until_ms is not None:
        until = facts.address_blocked_until_ms or facts.now_ms
        return Decision(address_blocked(facts.address, until, facts.now_ms))
    refusal = check_address(facts.role, facts.address, facts.address_rule)
    if refusal is not None:
        return Decision(refusal)
    if verdict is None:
        return Decision()  # SSO, login tokens, JWT, appservices: no password to pair with
    if outcome is Outcome.CODE_MISSING:
        return Decision(_mfa("code_required", CODE_REQUIRED))
    if outcome is Outcome.CODE_WRONG:
        return Decision(_mfa("invalid_code", CODE_WRONG))
    if outcome is Outcome.NOT_ENROLLED:
        return Decision(_mfa("not_enrolled", NOT_ENROLLED))
    if outcome not in (Outcome.PASSWORD_OK, Outcome.SECOND_FACTOR_OK):
        # Synapse accepted a login our check did not (e.g. its lookup found a user ours
        # did not). Refuse rather than guess.
        return Decision(Refusal(403, "M_FORBIDDEN", CHECK_FAILED, "check_disagrees"))
    if outcome is Outcome.PASSWORD_OK and facts.mfa_required and not facts.enrolled:
        started = facts.grace_started_ms if facts.grace_started_ms is not None else facts.now_ms
        deadline = started + facts.grace_ms
        if facts.now_ms >= deadline:
            return Decision(_mfa(
                "enrolment_required",
                f"Accounts with the role '{facts.role}' must use two-factor authentication, "
                f"and the time to set it up ended on {format_when(deadline)}. Set it up at "
                f"{facts.enrol_url} (sign in there with your password), then log in again "
                "with your code.",
                enrolment_url=facts.enrol_url,
            ))
        notice = {"enrolment_required": True, "enrol_before_ms": deadline,
                  "enrolment_url": facts.enrol_url}
        return Decision(reset_account_failures=True,
                        start_grace=facts.grace_started_ms is None, notice=notice)
    return Decision(reset_account_failures=True)


def rule_for(role: str, rules: Mapping[str, AddressRule]) -> AddressRule | None:
    return rules.get(role)


def requires_mfa(role: str, required_roles: Sequence[str]) -> bool:
    return role in required_roles
