"""A login guard over an in-memory database, for unit tests of its decisions (no Synapse)."""

from __future__ import annotations

import sqlite3
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import bcrypt
import pyotp

from hearth.owned_tables import migrate_txn
from hearth.synapse_modules.login_security import store as s
from hearth.synapse_modules.login_security.config import LoginSecurityConfig
from hearth.synapse_modules.login_security.credentials import LoginGuard
from hearth.synapse_modules.login_security.roles import RoleLookup

NOW_MS = 1_800_000_000_000


@dataclass
class Parts:
    """The guard over an in-memory database, and every password bcrypt was asked about."""

    guard: LoginGuard
    conn: sqlite3.Connection
    checks: list[str] = field(default_factory=list)
    apps: dict[str, pyotp.TOTP] = field(default_factory=dict)
    clock: list[int] = field(default_factory=lambda: [NOW_MS])

    def add_user(self, user_id: str, password: str) -> None:
        """Store a hash the way Synapse does: NFKC, UTF-8, cut to bcrypt's 72 bytes."""
        raw = unicodedata.normalize("NFKC", password).encode()[:72]
        hashed = bcrypt.hashpw(raw, bcrypt.gensalt(4)).decode()
        self.conn.execute("INSERT INTO users VALUES (?, ?)", (user_id, hashed))

    async def enrol(self, user_id: str) -> pyotp.TOTP:
        enrolment = await self.guard.begin_enrolment(user_id)
        app = self.apps[user_id] = pyotp.TOTP(enrolment.secret)
        await self.guard.confirm_enrolment(user_id, app.at(self.clock[0] / 1000 - 30), via="api")
        return app


def _runner(conn: sqlite3.Connection) -> Callable[..., Any]:
    async def run(desc: str, func: Callable[..., Any], *args: Any) -> Any:
        return func(conn.cursor(), *args)
    return run


def make_parts(tmp_path: Path, lockout: dict[str, Any] | None = None) -> Parts:
    """A guard with default settings (or ``lockout``), counting each bcrypt check."""
    conn = sqlite3.connect(":memory:", isolation_level=None)
    conn.execute("CREATE TABLE users (name TEXT, password_hash TEXT)")
    migrate_txn(conn.cursor(), s.SCHEMA)
    secret = tmp_path / "key"
    secret.write_text("k" * 64)
    (tmp_path / "templates").mkdir()
    config = LoginSecurityConfig.parse({
        "server_name": "hs", "public_baseurl": "https://hs/", "lockout": lockout or {},
        "mfa": {"secret_path": str(secret), "template_dir": str(tmp_path / "templates")},
    })
    checks: list[str] = []

    async def counting(func: Callable[..., bool], password: str, stored: str | None,
                       pepper: str) -> bool:
        checks.append(password)
        return func(password, stored, pepper)

    async def no_admins(user_id: str) -> bool:
        return False

    clock = [NOW_MS]
    guard = LoginGuard(config, s.LoginStore(_runner(conn)), RoleLookup(no_admins),
                       lambda: clock[0], counting)
    return Parts(guard, conn, checks, clock=clock)
