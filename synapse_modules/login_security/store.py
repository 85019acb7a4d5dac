"""The module's tables in Synapse's main database (SQLite or PostgreSQL).

Schema ``hearth_login_*`` with its own version table and numbered, idempotent migrations,
run only by the process that runs background tasks. Nothing is cached in a process: every
login reads the current state, so a lock, an unlock or a reset made through one worker is
seen by all of them at once. Writes that must happen once across workers are single
conditional statements (a TOTP time step is used once, a recovery code is used once);
counter updates are read-modify-write inside one transaction, which PostgreSQL runs at
Synapse's REPEATABLE READ and Synapse retries on a serialisation failure.

SQL is portable: ``?`` placeholders (Synapse converts them for PostgreSQL), TEXT/BIGINT,
``INSERT ... ON CONFLICT`` (SQLite >= 3.24, PostgreSQL >= 9.5).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from hearth.owned_tables import Cursor, ModuleTables, Runner, Schema
from hearth.synapse_compat.tables import find_user_txn
from hearth.synapse_modules.login_security.addresses import address_key
from hearth.synapse_modules.login_security.lockout import Counter, LockoutRule, after_failure

ACCOUNT = "account"  # failures over every address (the higher, account-wide limit)
ADDRESS = "address"  # failures from an address over every account
ACCOUNT_ADDRESS = "account_address"  # failures of one account from one address
UNKNOWN_ADDRESS = "-"
_LIKE_SPECIAL = str.maketrans({"\\": "\\\\", "%": "\\%", "_": "\\_"})


def pair_subject(user_id: str, address: str | None) -> str:
    """The counter key of (account, address): the user ID, a space, the address.

    A user ID cannot contain a space in its server name, and an address has none, so the
    address is what follows the last space.
    """
    return f"{user_id} {address_key(address) if address else UNKNOWN_ADDRESS}"


def _pair_prefix_pattern(user_id: str) -> str:
    return user_id.translate(_LIKE_SPECIAL) + " %"


SCHEMA = Schema("hearth_login_schema_version", (
    (1, (
        """CREATE TABLE IF NOT EXISTS hearth_login_failures (
            scope TEXT NOT NULL,
            subject TEXT NOT NULL,
            failures INTEGER NOT NULL,
            window_start_ts BIGINT NOT NULL,
            locked_until_ts BIGINT,
            last_failure_ts BIGINT NOT NULL,
            PRIMARY KEY (scope, subject)
        )""",
        """CREATE INDEX IF NOT EXISTS hearth_login_failures_last
            ON hearth_login_failures (last_failure_ts)""",
        """CREATE TABLE IF NOT EXISTS hearth_login_totp (
            user_id TEXT NOT NULL PRIMARY KEY,
            secret TEXT NOT NULL,
            created_ts BIGINT NOT NULL,
            confirmed_ts BIGINT,
            last_step BIGINT
        )""",
        """CREATE TABLE IF NOT EXISTS hearth_login_recovery_codes (
            user_id TEXT NOT NULL,
            code_hash TEXT NOT NULL,
            created_ts BIGINT NOT NULL,
            used_ts BIGINT,
            PRIMARY KEY (user_id, code_hash)
        )""",
        """CREATE TABLE IF NOT EXISTS hearth_login_mfa_grace (
            user_id TEXT NOT NULL PRIMARY KEY,
            started_ts BIGINT NOT NULL
        )""",
    )),
))
LATEST = SCHEMA.latest


@dataclass(frozen=True)
class TotpRow:
    """A user's TOTP enrolment: the sealed secret; ``confirmed_ms`` None while pending."""

    user_id: str
    sealed_secret: str
    created_ms: int
    confirmed_ms: int | None
    last_step: int | None

    @property
    def confirmed(self) -> bool:
        return self.confirmed_ms is not None


# --- transaction functions (plain SQL, unit-tested on sqlite3) ---------------------------


def _counter(row: Sequence[Any] | None) -> Counter | None:
    if row is None:
        return None
    return Counter(int(row[0]), int(row[1]), int(row[2]) if row[2] is not None else None)


def get_counter_txn(txn: Cursor, scope: str, subject: str) -> Counter | None:
    txn.execute("SELECT failures, window_start_ts, locked_until_ts FROM hearth_login_failures "
                "WHERE scope = ? AND subject = ?", (scope, subject))
    return _counter(txn.fetchone())


def record_failure_txn(txn: Cursor, scope: str, subject: str, now_ms: int, rule: LockoutRule
                       ) -> tuple[Counter | None, Counter]:
    """Count one failure for (scope, subject); returns the counter before and after."""
    before = get_counter_txn(txn, scope, subject)
    after = after_failure(before, now_ms, rule)
    txn.execute(
        "INSERT INTO hearth_login_failures (scope, subject, failures, window_start_ts, "
        "locked_until_ts, last_failure_ts) VALUES (?, ?, ?, ?, ?, ?) "
        "ON CONFLICT (scope, subject) DO UPDATE SET failures = excluded.failures, "
        "window_start_ts = excluded.window_start_ts, "
        "locked_until_ts = excluded.locked_until_ts, "
        "last_failure_ts = excluded.last_failure_ts",
        (scope, subject, after.failures, after.window_start_ms, after.locked_until_ms, now_ms),
    )
    return before, after


def clear_counter_txn(txn: Cursor, scope: str, subject: str) -> Counter | None:
    """Forget (scope, subject)'s failures and lock; returns what was there."""
    before = get_counter_txn(txn, scope, subject)
    if before is not None:
        txn.execute("DELETE FROM hearth_login_failures WHERE scope = ? AND subject = ?",
                    (scope, subject))
    return before


def pair_counters_txn(txn: Cursor, user_id: str) -> dict[str | None, Counter]:
    """The (account, address) counters of ``user_id``, by address (None: unknown address)."""
    txn.execute("SELECT subject, failures, window_start_ts, locked_until_ts "
                "FROM hearth_login_failures WHERE scope = ? AND subject LIKE ? ESCAPE '\\'",
                (ACCOUNT_ADDRESS, _pair_prefix_pattern(user_id)))
    found: dict[str | None, Counter] = {}
    for row in txn.fetchall():
        subject = str(row[0])
        if not subject.startswith(user_id + " "):
            continue
        address = subject.rsplit(" ", 1)[1]
        counter = _counter(row[1:])
        if counter is not None:
            found[None if address == UNKNOWN_ADDRESS else address] = counter
    return found


def clear_pair_counters_txn(txn: Cursor, user_id: str) -> list[Counter]:
    """Forget every (account, address) counter of ``user_id``; returns what was there."""
    before = pair_counters_txn(txn, user_id)
    for address in before:
        txn.execute("DELETE FROM hearth_login_failures WHERE scope = ? AND subject = ?",
                    (ACCOUNT_ADDRESS, pair_subject(user_id, address)))
    return list(before.values())


def prune_counters_txn(txn: Cursor, older_than_ms: int, now_ms: int) -> int:
    """Delete counters with no failure since ``older_than_ms`` and no lock in force."""
    txn.execute("DELETE FROM hearth_login_failures WHERE last_failure_ts < ? AND "
                "(locked_until_ts IS NULL OR locked_until_ts <= ?)", (older_than_ms, now_ms))
    return max(txn.rowcount, 0)


def get_totp_txn(txn: Cursor, user_id: str) -> TotpRow | None:
    txn.execute("SELECT user_id, secret, created_ts, confirmed_ts, last_step "
                "FROM hearth_login_totp WHERE user_id = ?", (user_id,))
    row = txn.fetchone()
    if row is None:
        return None
    return TotpRow(str(row[0]), str(row[1]), int(row[2]),
                   int(row[3]) if row[3] is not None else None,
                   int(row[4]) if row[4] is not None else None)


def begin_totp_txn(txn: Cursor, user_id: str, sealed_secret: str, now_ms: int) -> bool:
    """Store a pending secret (replacing an earlier pending one); False when already enrolled."""
    txn.execute(
        "INSERT INTO hearth_login_totp (user_id, secret, created_ts, confirmed_ts, last_step) "
        "VALUES (?, ?, ?, NULL, NULL) ON CONFLICT (user_id) DO UPDATE SET "
        "secret = excluded.secret, created_ts = excluded.created_ts "
        "WHERE hearth_login_totp.confirmed_ts IS NULL",
        (user_id, sealed_secret, now_ms),
    )
    return txn.rowcount == 1


def confirm_totp_txn(txn: Cursor, user_id: str, sealed_secret: str, step: int,
                     code_hashes: Sequence[str], now_ms: int) -> bool:
    """Confirm the pending secret ``sealed_secret`` and store fresh recovery codes.

    False when the pending secret changed meanwhile or the enrolment is already confirmed.
    """
    txn.execute("UPDATE hearth_login_totp SET confirmed_ts = ?, last_step = ? "
                "WHERE user_id = ? AND secret = ? AND confirmed_ts IS NULL",
                (now_ms, step, user_id, sealed_secret))
    if txn.rowcount != 1:
        return False
    txn.execute("DELETE FROM hearth_login_recovery_codes WHERE user_id = ?", (user_id,))
    for code_hash in code_hashes:
        txn.execute("INSERT INTO hearth_login_recovery_codes (user_id, code_hash, created_ts) "
                    "VALUES (?, ?, ?)", (user_id, code_hash, now_ms))
    txn.execute("DELETE FROM hearth_login_mfa_grace WHERE user_id = ?", (user_id,))
    return True


def use_totp_step_txn(txn: Cursor, user_id: str, step: int) -> bool:
    """Mark time step ``step`` used; False when it (or a later one) was used already."""
    txn.execute("UPDATE hearth_login_totp SET last_step = ? WHERE user_id = ? AND "
                "confirmed_ts IS NOT NULL AND (last_step IS NULL OR last_step < ?)",
                (step, user_id, step))
    return txn.rowcount == 1


def use_recovery_code_txn(txn: Cursor, user_id: str, code_hash: str, now_ms: int) -> bool:
    """Mark a recovery code used; False when it does not exist or was used already."""
    txn.execute("UPDATE hearth_login_recovery_codes SET used_ts = ? WHERE user_id = ? AND "
                "code_hash = ? AND used_ts IS NULL", (now_ms, user_id, code_hash))
    return txn.rowcount == 1


def recovery_codes_left_txn(txn: Cursor, user_id: str) -> int:
    txn.execute("SELECT COUNT(*) FROM hearth_login_recovery_codes WHERE user_id = ? AND "
                "used_ts IS NULL", (user_id,))
    row = txn.fetchone()
    return int(row[0]) if row else 0


def reset_mfa_txn(txn: Cursor, user_id: str) -> bool:
    """Remove the user's TOTP, recovery codes and grace period; whether a TOTP was there."""
    txn.execute("SELECT 1 FROM hearth_login_totp WHERE user_id = ? AND confirmed_ts IS NOT NULL",
                (user_id,))
    had = txn.fetchone() is not None
    txn.execute("DELETE FROM hearth_login_totp WHERE user_id = ?", (user_id,))
    txn.execute("DELETE FROM hearth_login_recovery_codes WHERE user_id = ?", (user_id,))
    txn.execute("DELETE FROM hearth_login_mfa_grace WHERE user_id = ?", (user_id,))
    return had


def get_grace_txn(txn: Cursor, user_id: str) -> int | None:
    txn.execute("SELECT started_ts FROM hearth_login_mfa_grace WHERE user_id = ?", (user_id,))
    row = txn.fetchone()
    return int(row[0]) if row else None


def start_grace_txn(txn: Cursor, user_id: str, now_ms: int) -> int:
    """Start the user's enrolment grace period unless it started already; returns its start."""
    txn.execute("INSERT INTO hearth_login_mfa_grace (user_id, started_ts) VALUES (?, ?) "
                "ON CONFLICT (user_id) DO NOTHING", (user_id, now_ms))
    started = get_grace_txn(txn, user_id)
    return started if started is not None else now_ms


class LoginStore(ModuleTables):
    """Async access to the tables, through Synapse's database pool."""

    def __init__(self, run: Runner) -> None:
        super().__init__(run, SCHEMA, "hearth_login")

    async def find_user(self, user_id: str) -> tuple[str, str | None] | None:
        return await self._run("hearth_login_find_user", find_user_txn, user_id)

    async def get_counter(self, scope: str, subject: str) -> Counter | None:
        return await self._run("hearth_login_get_counter", get_counter_txn, scope, subject)

    async def record_failure(self, scope: str, subject: str, now_ms: int, rule: LockoutRule
                             ) -> tuple[Counter | None, Counter]:
        return await self._run("hearth_login_record_failure", record_failure_txn, scope,
                               subject, now_ms, rule)

    async def clear_counter(self, scope: str, subject: str) -> Counter | None:
        return await self._run("hearth_login_clear_counter", clear_counter_txn, scope, subject)

    async def pair_counters(self, user_id: str) -> dict[str | None, Counter]:
        return await self._run("hearth_login_pair_counters", pair_counters_txn, user_id)

    async def clear_pair_counters(self, user_id: str) -> list[Counter]:
        return await self._run("hearth_login_clear_pair_counters", clear_pair_counters_txn,
                               user_id)

    async def prune_counters(self, older_than_ms: int, now_ms: int) -> int:
        return await self._run("hearth_login_prune_counters", prune_counters_txn,
                               older_than_ms, now_ms)

    async def get_totp(self, user_id: str) -> TotpRow | None:
        return await self._run("hearth_login_get_totp", get_totp_txn, user_id)

    async def begin_totp(self, user_id: str, sealed_secret: str, now_ms: int) -> bool:
        return await self._run("hearth_login_begin_totp", begin_totp_txn, user_id,
                               sealed_secret, now_ms)

    async def confirm_totp(self, user_id: str, sealed_secret: str, step: int,
                           code_hashes: Sequence[str], now_ms: int) -> bool:
        return await self._run("hearth_login_confirm_totp", confirm_totp_txn, user_id,
                               sealed_secret, step, tuple(code_hashes), now_ms)

    async def use_totp_step(self, user_id: str, step: int) -> bool:
        return await self._run("hearth_login_use_totp_step", use_totp_step_txn, user_id, step)

    async def use_recovery_code(self, user_id: str, code_hash: str, now_ms: int) -> bool:
        return await self._run("hearth_login_use_recovery_code", use_recovery_code_txn,
                               user_id, code_hash, now_ms)

    async def recovery_codes_left(self, user_id: str) -> int:
        return await self._run("hearth_login_recovery_codes_left", recovery_codes_left_txn,
                               user_id)

    async def reset_mfa(self, user_id: str) -> bool:
        return await self._run("hearth_login_reset_mfa", reset_mfa_txn, user_id)

    async def get_grace(self, user_id: str) -> int | None:
        return await self._run("hearth_login_get_grace", get_grace_txn, user_id)

    async def start_grace(self, user_id: str, now_ms: int) -> int:
        return await self._run("hearth_login_start_grace", start_grace_txn, user_id, now_ms)
