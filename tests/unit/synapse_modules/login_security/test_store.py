"""The module's tables on real SQL (sqlite3), and the guard on top of them."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator
from typing import Any

import bcrypt
import pyotp
import pytest

from hearth.owned_tables import migrate_txn, schema_version_txn
from hearth.synapse_compat.tables import find_user_txn
from hearth.synapse_modules.login_security import store as s
from hearth.synapse_modules.login_security.config import LoginSecurityConfig
from hearth.synapse_modules.login_security.credentials import EnrolmentError, LoginGuard
from hearth.synapse_modules.login_security.decisions import Outcome, Verdict
from hearth.synapse_modules.login_security.lockout import LockoutRule
from hearth.synapse_modules.login_security.roles import RoleLookup

RULE = LockoutRule(limit=3, window_ms=60_000, lock_ms=30_000)


@pytest.fixture
def db() -> Iterator[sqlite3.Connection]:
    conn = sqlite3.connect(":memory:", isolation_level=None)
    conn.execute("CREATE TABLE users (name TEXT, password_hash TEXT)")
    cur = conn.cursor()
    assert migrate_txn(cur, s.SCHEMA) == 0
    yield conn
    conn.close()


def test_migrations_are_idempotent(db: sqlite3.Connection) -> None:
    cur = db.cursor()
    assert migrate_txn(cur, s.SCHEMA) == s.LATEST
    assert schema_version_txn(cur, s.SCHEMA) == s.LATEST


def test_user_lookup_like_synapse(db: sqlite3.Connection) -> None:
    """Case-insensitive; an exact match wins; two inexact matches are ambiguous."""
    cur = db.cursor()
    cur.execute("INSERT INTO users VALUES ('@alice:hs', 'h1'), ('@Bob:hs', 'h2'), "
                "('@bob:hs', 'h3'), ('@Carol:hs', 'h4')")
    assert find_user_txn(cur, "@ALICE:hs") == ("@alice:hs", "h1")
    assert find_user_txn(cur, "@bob:hs") == ("@bob:hs", "h3")
    assert find_user_txn(cur, "@BOB:hs") is None
    assert find_user_txn(cur, "@carol:hs") == ("@Carol:hs", "h4")
    assert find_user_txn(cur, "@dave:hs") is None


def test_failure_counter_round_trip(db: sqlite3.Connection) -> None:
    cur = db.cursor()
    for i in range(3):
        _, after = s.record_failure_txn(cur, s.ACCOUNT, "@a:hs", 1000 + i, RULE)
    assert after.failures == 3 and after.locked_until_ms == 1002 + 30_000
    assert s.get_counter_txn(cur, s.ACCOUNT, "@a:hs") == after
    assert s.get_counter_txn(cur, s.ADDRESS, "@a:hs") is None
    assert s.clear_counter_txn(cur, s.ACCOUNT, "@a:hs") == after
    assert s.get_counter_txn(cur, s.ACCOUNT, "@a:hs") is None
    s.record_failure_txn(cur, s.ADDRESS, "192.0.2.1", 1000, RULE)
    assert s.prune_counters_txn(cur, older_than_ms=2000, now_ms=5000) == 1


def test_totp_steps_and_recovery_codes_are_used_once(db: sqlite3.Connection) -> None:
    cur = db.cursor()
    assert s.begin_totp_txn(cur, "@a:hs", "sealed-1", 10)
    assert s.begin_totp_txn(cur, "@a:hs", "sealed-2", 11)  # a new pending one replaces it
    assert not s.confirm_totp_txn(cur, "@a:hs", "sealed-1", 5, ["h1"], 12)  # stale secret
    assert s.confirm_totp_txn(cur, "@a:hs", "sealed-2", 5, ["h1", "h2"], 12)
    assert not s.begin_totp_txn(cur, "@a:hs", "sealed-3", 13)  # enrolled: no replacing
    row = s.get_totp_txn(cur, "@a:hs")
    assert row is not None and row.confirmed and row.last_step == 5
    assert not s.use_totp_step_txn(cur, "@a:hs", 5)
    assert s.use_totp_step_txn(cur, "@a:hs", 6)
    assert not s.use_totp_step_txn(cur, "@a:hs", 6)
    assert s.use_recovery_code_txn(cur, "@a:hs", "h1", 20)
    assert not s.use_recovery_code_txn(cur, "@a:hs", "h1", 21)
    assert not s.use_recovery_code_txn(cur, "@b:hs", "h2", 21)
    assert s.recovery_codes_left_txn(cur, "@a:hs") == 1
    assert s.start_grace_txn(cur, "@a:hs", 30) == 30
    assert s.start_grace_txn(cur, "@a:hs", 40) == 30
    assert s.reset_mfa_txn(cur, "@a:hs")
    assert s.get_totp_txn(cur, "@a:hs") is None and s.get_grace_txn(cur, "@a:hs") is None
    assert not s.reset_mfa_txn(cur, "@a:hs")


# --- the guard, over the same tables ------------------------------------------------------


class Clock:
    def __init__(self) -> None:
        self.ms = 1_800_000_000_000

    def __call__(self) -> int:
        return self.ms


def runner(conn: sqlite3.Connection) -> Callable[..., Any]:
    async def run(desc: str, func: Callable[..., Any], *args: Any) -> Any:
        return func(conn.cursor(), *args)
    return run


async def direct(func: Callable[..., bool], *args: Any) -> bool:
    return func(*args)


@pytest.fixture
def guard_parts(db: sqlite3.Connection, tmp_path: Any) -> tuple[LoginGuard, Clock, set[str]]:
    secret = tmp_path / "key"
    secret.write_text("k" * 64)
    templates = tmp_path / "templates"
    templates.mkdir()
    config = LoginSecurityConfig.parse({
        "server_name": "hs", "public_baseurl": "https://hs/",
        "lockout": {"account_failures": 3, "address_failures": 4,
                    "address_exempt": ["127.0.0.0/8"]},
        "ip_rules": {"admin": {"allow": ["10.0.0.0/8"]}},
        "mfa": {"secret_path": str(secret), "template_dir": str(templates),
                "required_roles": ["admin"]},
    })
    pw_hash = bcrypt.hashpw(b"right-password-1", bcrypt.gensalt(4)).decode()
    db.execute("INSERT INTO users VALUES ('@u:hs', ?), ('@boss:hs', ?)", (pw_hash, pw_hash))
    admins: set[str] = {"@boss:hs"}

    async def is_admin(user_id: str) -> bool:
        return user_id in admins

    clock = Clock()
    guard = LoginGuard(config, s.LoginStore(runner(db)), RoleLookup(is_admin), clock, direct)
    return guard, clock, admins


async def test_guard_locks_counts_addresses_and_unlocks(guard_parts: Any) -> None:
    guard, clock, _ = guard_parts
    for _ in range(3):
        result = await guard.check("@u:hs", "wrong", None, "192.0.2.9")
        assert result.outcome is Outcome.PASSWORD_WRONG
    refusal = await guard.refusal_before_check("@u:hs", "192.0.2.9")
    assert refusal is not None and refusal.errcode == "M_USER_LOCKED"
    assert (await guard.check("@nobody:hs", "x", None, "192.0.2.9")).outcome \
        is Outcome.UNKNOWN_USER
    address = await guard.refusal_before_check("@boss:hs", "192.0.2.9")
    assert address is not None and address.status == 429  # 4 failures from that address
    exempt = await guard.check("@boss:hs", "wrong", None, "127.0.0.1")
    assert exempt.outcome is Outcome.PASSWORD_WRONG
    assert await guard.refusal_before_check("@boss:hs", "127.0.0.1") is None
    assert (await guard.unlock_account("@u:hs"))["was_locked"]
    assert (await guard.unlock_address("192.0.2.9"))["was_blocked"]
    assert await guard.refusal_before_check("@u:hs", "192.0.2.9") is None
    clock.ms += 10 * 86_400_000
    assert await guard.prune() >= 1


async def test_guard_enrolment_and_second_factor(guard_parts: Any) -> None:
    guard, clock, _ = guard_parts
    with pytest.raises(EnrolmentError, match="start one first"):
        await guard.confirm_enrolment("@u:hs", "123456", via="api")
    enrolment = await guard.begin_enrolment("@u:hs")
    app = pyotp.TOTP(enrolment.secret)
    with pytest.raises(EnrolmentError) as wrong:
        await guard.confirm_enrolment("@u:hs", "000000" if app.at(clock.ms / 1000) != "000000"
                                      else "111111", via="api")
    assert wrong.value.reason == "wrong_code"
    codes = await guard.confirm_enrolment("@u:hs", app.at(clock.ms / 1000 - 30), via="api")
    assert len(codes) == 10
    with pytest.raises(EnrolmentError):
        await guard.begin_enrolment("@u:hs")

    plain = await guard.check("@u:hs", "right-password-1", None, None)
    assert plain.outcome is Outcome.CODE_MISSING
    code = app.at(clock.ms / 1000)
    appended = await guard.check("@u:hs", "right-password-1" + code, None, None)
    assert (appended.outcome, appended.second_factor) == (Outcome.SECOND_FACTOR_OK, "totp")
    assert (await guard.check("@u:hs", "right-password-1", code, None)).outcome \
        is Outcome.CODE_WRONG  # replayed
    recovery = await guard.check("@u:hs", "right-password-1", codes[0], None)
    assert (recovery.outcome, recovery.second_factor) == (Outcome.SECOND_FACTOR_OK, "recovery")
    assert (await guard.check("@u:hs", "wrong", code, None)).outcome is Outcome.PASSWORD_WRONG
    status = await guard.admin_status("@u:hs")
    assert status["totp_enabled"] and status["recovery_codes_left"] == 9
    assert status["failed_attempts"] == 2  # the replayed code and the wrong password
    assert (await guard.reset_mfa("@u:hs"))["totp_removed"]
    assert (await guard.check("@u:hs", "right-password-1", "123456", None)).outcome \
        is Outcome.NOT_ENROLLED


async def test_guard_decision_applies_rules_and_grace(guard_parts: Any) -> None:
    guard, clock, _ = guard_parts
    ok = Verdict("@boss:hs", Outcome.PASSWORD_OK)
    outside = await guard.decide("@boss:hs", ok, "192.0.2.1")
    assert outside.refusal is not None and outside.refusal.reason == "address_rule"
    first = await guard.decide("@boss:hs", ok, "10.0.0.1")
    assert first.allowed and first.notice is not None
    clock.ms += 8 * 86_400_000
    late = await guard.decide("@boss:hs", ok, "10.0.0.1")
    assert late.refusal is not None and late.refusal.reason == "mfa_enrolment_required"
    assert (await guard.status("@boss:hs"))["required"] is True
    canonical, refusal = await guard.sign_in("@boss:hs", "right-password-1", "192.0.2.1")
    assert canonical is None and refusal is not None and refusal.reason == "address_rule"
    canonical, refusal = await guard.sign_in("@BOSS:hs", "right-password-1", "10.0.0.1")
    assert (canonical, refusal) == ("@boss:hs", None)
    assert await guard.reauthenticate("@boss:hs", "nope", None) is not None
