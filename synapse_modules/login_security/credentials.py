"""The login guard: checks credentials, counts failures, enrols and resets second factors.

No Synapse imports: the module hands it the store, the role lookup, a clock and a way to
run bcrypt off the reactor, and adapts its results to Synapse's callbacks and resources.
The same guard serves ``/login`` (through the password auth provider and the login spam
check), the JSON API and the enrolment page, so every password check anywhere counts
towards the same lockout.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from hearth.synapse_compat.password_hash import check_password
from hearth.synapse_modules.login_security import totp
from hearth.synapse_modules.login_security.addresses import address_key, in_networks
from hearth.synapse_modules.login_security.config import LoginSecurityConfig
from hearth.synapse_modules.login_security.crypto import decrypt_secret, encrypt_secret
from hearth.synapse_modules.login_security.decisions import (
    Decision,
    LoginFacts,
    Outcome,
    Refusal,
    Verdict,
    account_locked,
    address_blocked,
    check_address,
    decide_login,
)
from hearth.synapse_modules.login_security.lockout import LockoutRule, just_locked, locked_until
from hearth.synapse_modules.login_security.metrics import (
    FAILED_LOGINS,
    LOCKOUTS,
    MFA_ENROLMENTS,
    MFA_FAILURES,
    MFA_LOGINS,
    MFA_RESETS,
    REFUSED_LOGINS,
)
from hearth.synapse_modules.login_security.password_suffix import suffix_guesses
from hearth.synapse_modules.login_security.roles import RoleLookup
from hearth.synapse_modules.login_security.store import (
    ACCOUNT,
    ACCOUNT_ADDRESS,
    ADDRESS,
    LoginStore,
    TotpRow,
    pair_subject,
)

logger = logging.getLogger(__name__)

WRONG_CREDENTIALS = "Wrong user name or password."
# A lock over every address needs this many times the per-address limit (5 -> 50), and lasts
# a third of the per-address lock (at least a minute): a stranger spreading guesses over many
# addresses cannot keep the owner out for long, and a valid second factor still gets in.
ACCOUNT_WIDE_FACTOR = 10
ACCOUNT_WIDE_LOCK_DIVISOR = 3
MIN_ACCOUNT_WIDE_LOCK_MS = 60_000


def _pair(user_id: str, address: str | None) -> str:
    """The (account, address) counter key; IPv6 addresses count by their /64, like blocks."""
    return pair_subject(user_id, address_key(address) if address is not None else None)


@dataclass(frozen=True)
class Locks:
    """The locks in force for one login: (account, address) pair, whole account, address."""

    pair_until_ms: int | None = None
    account_until_ms: int | None = None
    address_until_ms: int | None = None

    def applicable_until_ms(self, second_factor_used: bool) -> int | None:
        """The account lock that refuses this login; a valid second factor lifts the wide one."""
        if self.pair_until_ms is not None:
            return self.pair_until_ms
        return None if second_factor_used else self.account_until_ms


class EnrolmentError(Exception):
    """Enrolment could not go ahead: ``reason`` is already_enrolled, no_pending or wrong_code."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message


@dataclass(frozen=True)
class CheckResult:
    """What a credential check found, and for which canonical user ID."""

    outcome: Outcome
    user_id: str | None
    second_factor: str | None = None
    has_password: bool = True  # False: the account has no password hash (deactivated)


ACCEPTED = "accepted"
REFUSED = "refused"  # not checked: another identity, or a lock
WRONG = "wrong"  # checked and wrong (counted)


@dataclass(frozen=True)
class Reauthentication:
    """The answer to a UIA password stage: accepted (with the user), refused, or wrong."""

    answer: str
    user_id: str | None


@dataclass(frozen=True)
class Enrolment:
    """A pending TOTP enrolment: the secret to show once and its otpauth URI."""

    secret: str
    uri: str


class LoginGuard:
    """Everything the module decides about passwords and second factors."""

    def __init__(
        self,
        config: LoginSecurityConfig,
        store: LoginStore,
        roles: RoleLookup,
        now_ms: Callable[[], int],
        in_thread: Callable[[Callable[[str, str | None, str], bool], str, str | None, str],
                            Awaitable[bool]],
    ) -> None:
        self._config = config
        self._store = store
        self._roles = roles
        self._now_ms = now_ms
        self._in_thread = in_thread
        lock = config.lockout
        self._pair_rule = LockoutRule(lock.account_failures, lock.window_ms,
                                      lock.account_duration_ms)
        self._account_rule = LockoutRule(
            lock.account_failures * ACCOUNT_WIDE_FACTOR, lock.window_ms,
            max(MIN_ACCOUNT_WIDE_LOCK_MS, lock.account_duration_ms // ACCOUNT_WIDE_LOCK_DIVISOR))
        self._address_rule = LockoutRule(lock.address_failures, lock.window_ms,
                                         lock.address_duration_ms)
        self._server = config.server_name

    # --- pieces ----------------------------------------------------------------------------

    def _counts_address(self, address: str | None) -> bool:
        return address is not None and not in_networks(address, self._config.lockout.address_exempt)

    async def _password_matches(self, password: str, password_hash: str | None) -> bool:
        return await self._in_thread(check_password, password, password_hash,
                                     self._config.password_pepper)

    async def record_failure(self, user_id: str | None, address: str | None, reason: str) -> None:
        """Count a failed check against the account from this address, the whole account
        (when known) and the address (unless exempt)."""
        FAILED_LOGINS.labels(self._server, reason).inc()
        now = self._now_ms()
        if user_id is not None:
            await self._count_failure(ACCOUNT_ADDRESS, _pair(user_id, address), now,
                                      self._pair_rule)
            await self._count_failure(ACCOUNT, user_id, now, self._account_rule)
        if address is not None and self._counts_address(address):
            await self._count_failure(ADDRESS, address_key(address), now,
                                      self._address_rule)

    async def _count_failure(self, scope: str, subject: str, now: int, rule: LockoutRule
                             ) -> None:
        before, after = await self._store.record_failure(scope, subject, now, rule)
        if just_locked(before, after, now):
            LOCKOUTS.labels(self._server, scope).inc()
            logger.warning("login_security: %s %s locked until %s after %d failures",
                           scope, subject, after.locked_until_ms, after.failures)

    async def canonical_user(self, user_id: str) -> str | None:
        found = await self._store.find_user(user_id)
        return found[0] if found else None

    async def locks(self, user_id: str, address: str | None) -> Locks:
        """The locks in force now for ``user_id`` logging in from ``address``."""
        now = self._now_ms()
        pair = locked_until(await self._store.get_counter(
            ACCOUNT_ADDRESS, _pair(user_id, address)), now)
        account = locked_until(await self._store.get_counter(ACCOUNT, user_id), now)
        blocked = None
        if address is not None and self._counts_address(address):
            blocked = locked_until(await self._store.get_counter(ADDRESS, address_key(address)),
                                   now)
        return Locks(pair, account, blocked)

    async def refusal_before_check(self, user_id: str, address: str | None,
                                   second_factor_possible: bool = False) -> Refusal | None:
        """A lock that refuses before any password is looked at.

        With ``second_factor_possible`` (a /login of an enrolled user), the account-wide lock
        is left to the decision after the check: a valid code still gets the owner in.
        """
        now = self._now_ms()
        locks = await self.locks(user_id, address)
        until = locks.applicable_until_ms(second_factor_used=second_factor_possible)
        if until is not None:
            return account_locked(until, now)
        if locks.address_until_ms is not None:
            return address_blocked(address, locks.address_until_ms, now)
        return None

    async def enrolled(self, user_id: str) -> bool:
        row = await self._store.get_totp(user_id)
        return row is not None and row.confirmed

    # --- credential checks -----------------------------------------------------------------

    async def check(self, user_id: str, password: str, code: str | None, address: str | None
                    ) -> CheckResult:
        """Check a password (and a code, for the TOTP login type); count what fails.

        With ``code`` None, an enrolled user may append the code to the password.
        """
        found = await self._store.find_user(user_id)
        if found is None:
            await self.record_failure(None, address, "unknown_user")
            return CheckResult(Outcome.UNKNOWN_USER, None)
        canonical, password_hash = found
        row = await self._store.get_totp(canonical)
        enrolled = row if row is not None and row.confirmed else None
        outcome, factor = await self._evaluate(canonical, password_hash, password, code, enrolled)
        if outcome is Outcome.PASSWORD_WRONG:
            await self.record_failure(canonical, address, "wrong_password")
        elif outcome is Outcome.CODE_WRONG:
            MFA_FAILURES.labels(self._server, "login").inc()
            await self.record_failure(canonical, address, "wrong_code")
        elif outcome is Outcome.SECOND_FACTOR_OK and factor is not None:
            MFA_LOGINS.labels(self._server, factor).inc()
        return CheckResult(outcome, canonical, factor, has_password=bool(password_hash))

    async def _evaluate(self, user_id: str, password_hash: str | None, typed: str,
                        code: str | None, enrolled: TotpRow | None
                        ) -> tuple[Outcome, str | None]:
        """One bcrypt check, whatever was typed.

        An enrolled user's password field is read as password + code whenever it ends like
        a code (the code is split off before bcrypt, which would cut a 72-byte password's
        code away); otherwise as the password alone (then the code is missing).
        """
        if code is not None:
            if not await self._password_matches(typed, password_hash):
                return Outcome.PASSWORD_WRONG, None
            if enrolled is None:
                return Outcome.NOT_ENROLLED, None
            return await self._second_factor(user_id, enrolled, code)
        guesses = suffix_guesses(typed) if enrolled is not None else []
        if enrolled is not None and guesses:
            guess = guesses[0]  # a 6-digit and a recovery-code ending exclude each other
            if await self._password_matches(guess.password, password_hash):
                return await self._second_factor(user_id, enrolled, guess.code)
            return Outcome.PASSWORD_WRONG, None
        if await self._password_matches(typed, password_hash):
            return (Outcome.CODE_MISSING if enrolled else Outcome.PASSWORD_OK), None
        return Outcome.PASSWORD_WRONG, None

    async def _second_factor(self, user_id: str, row: TotpRow, code: str
                             ) -> tuple[Outcome, str | None]:
        now = self._now_ms()
        if totp.normalize_code(code) is not None:
            secret = decrypt_secret(self._config.mfa.keys, user_id, row.sealed_secret)
            step = totp.matching_step(secret, code, now / 1000)
            if step is not None and await self._store.use_totp_step(user_id, step):
                return Outcome.SECOND_FACTOR_OK, "totp"
            return Outcome.CODE_WRONG, None
        recovery = totp.normalize_recovery_code(code)
        if recovery is not None:
            digest = totp.hash_recovery_code(self._config.mfa.keys.recovery, recovery)
            if await self._store.use_recovery_code(user_id, digest, now):
                return Outcome.SECOND_FACTOR_OK, "recovery"
        return Outcome.CODE_WRONG, None

    async def check_reauthentication(self, requester: str | None, user_id: str,
                                     password: str, code: str | None, address: str | None
                                     ) -> Reauthentication:
        """User-interactive auth: only the requester's own account, never while locked.

        Another identity (or no logged-in requester, e.g. at registration) is refused
        without looking at the password, so UIA tells nobody whether another account's
        password is right; the attempt counts like a failed login on the named account.
        """
        canonical = await self.canonical_user(user_id)
        if requester is None or canonical != requester:
            await self.record_failure(canonical, address, "uia_other_identity")
            REFUSED_LOGINS.labels(self._server, "uia_other_identity").inc()
            return Reauthentication(REFUSED, None)
        refusal = await self.refusal_before_check(canonical, address)
        if refusal is not None:
            REFUSED_LOGINS.labels(self._server, f"uia_{refusal.reason}").inc()
            return Reauthentication(REFUSED, None)
        result = await self.check(canonical, password, code, address)
        if result.outcome in (Outcome.PASSWORD_OK, Outcome.SECOND_FACTOR_OK,
                              Outcome.CODE_MISSING):
            return Reauthentication(ACCEPTED, canonical)
        return Reauthentication(WRONG, None)

    async def reauthenticate(self, user_id: str, password: str, address: str | None
                             ) -> Refusal | None:
        """A logged-in user proving their password again (before enrolling); counted."""
        refusal = await self.refusal_before_check(user_id, address)
        if refusal is not None:
            return refusal
        found = await self._store.find_user(user_id)
        if found is None or not await self._password_matches(password, found[1]):
            await self.record_failure(user_id, address, "wrong_password")
            return Refusal(403, "M_FORBIDDEN", "The password is wrong.", "wrong_password")
        return None

    async def sign_in(self, user_id: str, password: str, address: str | None
                      ) -> tuple[str | None, Refusal | None]:
        """The enrolment page's sign-in: locks, address rule and password, like /login."""
        canonical = await self.canonical_user(user_id)
        if canonical is None:
            await self.record_failure(None, address, "unknown_user")
            return None, Refusal(403, "M_FORBIDDEN", WRONG_CREDENTIALS, "wrong_password")
        refusal = await self.refusal_before_check(canonical, address)
        if refusal is None:
            role = await self._roles.role_of(canonical)
            refusal = check_address(role, address, self._config.ip_rules.get(role))
        if refusal is not None:
            REFUSED_LOGINS.labels(self._server, refusal.reason).inc()
            return None, refusal
        found = await self._store.find_user(canonical)
        if found is None or not await self._password_matches(password, found[1]):
            await self.record_failure(canonical, address, "wrong_password")
            return None, Refusal(403, "M_FORBIDDEN", WRONG_CREDENTIALS, "wrong_password")
        return canonical, None

    # --- the login decision ----------------------------------------------------------------

    async def decide(self, user_id: str, verdict: Verdict | None, address: str | None,
                     password_login: bool = True) -> Decision:
        """Decide a login Synapse has authenticated; record a success's side effects.

        ``password_login``: the request was a login type that carries a password, so a
        missing verdict means our check never ran (or was lost) and the login is refused.
        """
        now = self._now_ms()
        locks = await self.locks(user_id, address)
        second_factor = verdict is not None and verdict.outcome is Outcome.SECOND_FACTOR_OK
        account = locks.applicable_until_ms(second_factor_used=second_factor)
        blocked = locks.address_until_ms
        role = await self._roles.role_of(user_id)
        required = role in self._config.mfa.required_roles
        enrolled = False
        grace: int | None = None
        if verdict is not None:
            row = await self._store.get_totp(user_id)
            enrolled = row is not None and row.confirmed
            if required and not enrolled:
                grace = await self._store.get_grace(user_id)
        decision = decide_login(LoginFacts(
            user_id=user_id, now_ms=now, verdict=verdict, role=role, address=address,
            address_rule=self._config.ip_rules.get(role), account_locked_until_ms=account,
            address_blocked_until_ms=blocked, enrolled=enrolled, mfa_required=required,
            grace_started_ms=grace, grace_ms=self._config.mfa.enrolment_grace_ms,
            enrol_url=self._config.enrol_url, verdict_required=password_login,
        ))
        if decision.refusal is not None:
            REFUSED_LOGINS.labels(self._server, decision.refusal.reason).inc()
            return decision
        if decision.reset_account_failures:
            await self._store.clear_counter(ACCOUNT, user_id)
            await self._store.clear_counter(ACCOUNT_ADDRESS, _pair(user_id, address))
        if decision.start_grace:
            await self._store.start_grace(user_id, now)
        return decision

    # --- enrolment -------------------------------------------------------------------------

    async def begin_enrolment(self, user_id: str) -> Enrolment:
        """A fresh pending secret (replacing any earlier pending one)."""
        secret = totp.new_secret()
        sealed = encrypt_secret(self._config.mfa.keys, user_id, secret)
        if not await self._store.begin_totp(user_id, sealed, self._now_ms()):
            raise EnrolmentError(
                "already_enrolled",
                "Two-factor authentication is already set up for this account. To replace "
                "the authenticator, an administrator must reset it first.")
        return Enrolment(secret, totp.provisioning_uri(secret, user_id,
                                                       self._config.mfa.issuer))

    async def pending_enrolment(self, user_id: str) -> Enrolment | None:
        row = await self._store.get_totp(user_id)
        if row is None or row.confirmed:
            return None
        secret = decrypt_secret(self._config.mfa.keys, user_id, row.sealed_secret)
        return Enrolment(secret, totp.provisioning_uri(secret, user_id, self._config.mfa.issuer))

    async def confirm_enrolment(self, user_id: str, code: str, via: str) -> list[str]:
        """Check the first code against the pending secret; returns recovery codes (once)."""
        row = await self._store.get_totp(user_id)
        if row is not None and row.confirmed:
            raise EnrolmentError("already_enrolled",
                                 "Two-factor authentication is already set up for this account.")
        if row is None:
            raise EnrolmentError("no_pending",
                                 "There is no enrolment to confirm: start one first.")
        secret = decrypt_secret(self._config.mfa.keys, user_id, row.sealed_secret)
        step = totp.matching_step(secret, code, self._now_ms() / 1000)
        if step is None:
            MFA_FAILURES.labels(self._server, "enrolment").inc()
            raise EnrolmentError(
                "wrong_code",
                "That code does not match. Check that the authenticator app shows codes for "
                "this account and that the device's clock is right, then try the next code.")
        codes = totp.new_recovery_codes(self._config.mfa.recovery_codes)
        hashes = [totp.hash_recovery_code(self._config.mfa.keys.recovery, c) for c in codes]
        if not await self._store.confirm_totp(user_id, row.sealed_secret, step, hashes,
                                              self._now_ms()):
            raise EnrolmentError("no_pending",
                                 "The enrolment changed meanwhile: start again.")
        MFA_ENROLMENTS.labels(self._server, via).inc()
        logger.info("login_security: %s enrolled a TOTP authenticator via %s", user_id, via)
        return codes

    # --- status and admin actions ----------------------------------------------------------

    async def status(self, user_id: str) -> dict[str, Any]:
        """What a user may know about their own second factor."""
        row = await self._store.get_totp(user_id)
        role = await self._roles.role_of(user_id)
        required = role in self._config.mfa.required_roles
        grace = await self._store.get_grace(user_id) if required else None
        enrolled = row is not None and row.confirmed
        return {
            "user_id": user_id,
            "role": role,
            "totp_enabled": enrolled,
            "totp_pending": row is not None and not row.confirmed,
            "recovery_codes_left": await self._store.recovery_codes_left(user_id) if enrolled
            else 0,
            "required": required,
            "enrol_before_ms": (grace + self._config.mfa.enrolment_grace_ms)
            if grace is not None and not enrolled else None,
            "enrolment_url": self._config.enrol_url,
        }

    async def admin_status(self, user_id: str) -> dict[str, Any]:
        """Failures over every address; the latest lock in force (whole account or from an
        address) and the addresses locked out of the account."""
        counter = await self._store.get_counter(ACCOUNT, user_id)
        now = self._now_ms()
        pairs = await self._store.pair_counters(user_id)
        locked_from = {address: until for address, c in pairs.items()
                       if (until := locked_until(c, now)) is not None}
        ends = [u for u in (locked_until(counter, now), *locked_from.values()) if u is not None]
        return {
            **await self.status(user_id),
            "failed_attempts": counter.failures if counter else 0,
            "locked_until_ms": max(ends) if ends else None,
            "account_locked_until_ms": locked_until(counter, now),
            "locked_addresses": sorted(a or "unknown" for a in locked_from),
        }

    async def unlock_account(self, user_id: str) -> dict[str, Any]:
        """Clear the account's failures and locks, over every address and from each one."""
        pairs = await self._store.clear_pair_counters(user_id)
        before = await self._store.clear_counter(ACCOUNT, user_id)
        now = self._now_ms()
        was_locked = locked_until(before, now) is not None or any(
            locked_until(c, now) is not None for c in pairs)
        logger.info("login_security: %s unlocked by an administrator", user_id)
        return {"user_id": user_id, "was_locked": was_locked,
                "failed_attempts_cleared": before.failures if before else 0}

    async def unlock_address(self, address: str) -> dict[str, Any]:
        before = await self._store.clear_counter(ADDRESS, address)
        now = self._now_ms()
        return {"address": address, "was_blocked": locked_until(before, now) is not None,
                "failed_attempts_cleared": before.failures if before else 0}

    async def reset_mfa(self, user_id: str) -> dict[str, Any]:
        removed = await self._store.reset_mfa(user_id)
        if removed:
            MFA_RESETS.labels(self._server).inc()
        logger.info("login_security: second factor of %s reset by an administrator", user_id)
        return {"user_id": user_id, "totp_removed": removed}

    async def prune(self) -> int:
        """Forget counters with nothing recent and no lock in force."""
        now = self._now_ms()
        keep = max(self._config.lockout.window_ms, self._config.lockout.account_duration_ms,
                   self._config.lockout.address_duration_ms)
        return await self._store.prune_counters(now - keep, now)
