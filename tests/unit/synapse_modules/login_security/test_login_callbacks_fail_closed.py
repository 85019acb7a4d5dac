"""The module's two /login callbacks, as Synapse calls them: verdicts in the request's note.

A fake ModuleApi over an in-memory database; the logging context is Synapse's own, as in a
request. Shows what Synapse cannot: that a wrong password is answered without a second
bcrypt check (the checker never returns None for an existing account at /login), and that
a login without a note or without a verdict is refused.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import bcrypt
import pytest
from synapse.api.errors import SynapseError
from synapse.logging.context import ContextRequest, PreserveLoggingContext
from synapse.synapse_rust.logcontext import LoggingContext

from hearth.owned_tables import migrate_txn
from hearth.synapse_modules.login_security import store as s
from hearth.synapse_modules.login_security.module import REAUTH_REFUSED, LoginSecurityModule
from hearth.synapse_modules.login_security.request_notes import RequestNote, Route
from tests.harness.login_guard import NOW_MS

PASSWORD = "right-password-1"


def fake_api(conn: sqlite3.Connection, checks: list[str]) -> Any:
    async def run_db_interaction(desc: str, func: Callable[..., Any], *args: Any) -> Any:
        return func(conn.cursor(), *args)

    async def defer_to_thread(func: Callable[..., Any], *args: Any) -> Any:
        checks.append(args[0])
        return func(*args)

    async def no(*args: Any) -> bool:
        return False

    return SimpleNamespace(
        run_db_interaction=run_db_interaction, defer_to_thread=defer_to_thread,
        is_user_admin=no, get_current_time_msec=lambda: NOW_MS, server_name="hs",
        get_qualified_user_id=lambda local: f"@{local}:hs",
        should_run_background_tasks=lambda: False, read_templates=lambda names, d: names,
        register_password_auth_provider_callbacks=lambda **kw: None,
        register_spam_checker_callbacks=lambda **kw: None,
        register_web_resource=lambda path, resource: None,
    )


@pytest.fixture
def module(tmp_path: Path) -> Iterator[tuple[LoginSecurityModule, list[str]]]:
    conn = sqlite3.connect(":memory:", isolation_level=None)
    conn.execute("CREATE TABLE users (name TEXT, password_hash TEXT)")
    migrate_txn(conn.cursor(), s.SCHEMA)
    hashed = bcrypt.hashpw(PASSWORD.encode(), bcrypt.gensalt(4)).decode()
    conn.execute("INSERT INTO users VALUES ('@u:hs', ?), ('@w:hs', ?)", (hashed, hashed))
    (tmp_path / "key").write_text("k" * 64)
    (tmp_path / "t").mkdir()
    config = LoginSecurityModule.parse_config({
        "server_name": "hs", "public_baseurl": "https://hs/",
        "mfa": {"secret_path": str(tmp_path / "key"), "template_dir": str(tmp_path / "t")}})
    checks: list[str] = []
    made = LoginSecurityModule(config, fake_api(conn, checks))
    made._ready = True
    yield made, checks
    conn.close()


def in_request(request_id: str, requester: str | None = None) -> PreserveLoggingContext:
    record = ContextRequest(request_id=request_id, ip_address="192.0.2.1", site_tag="client",
                            requester=requester, authenticated_entity=requester,
                            method="POST", url="/", protocol="1.1", user_agent="test")
    return PreserveLoggingContext(LoggingContext(name=request_id, server_name="hs",
                                                 request=record))


def login_note(module: LoginSecurityModule, request_id: str,
               login_type: str = "m.login.password") -> RequestNote:
    note = RequestNote(Route.LOGIN, "192.0.2.1", "192.0.2.1", login_type)
    assert module._notes.add(request_id, note)
    return note


async def spam_check(module: LoginSecurityModule, user_id: str) -> str:
    return await module.check_login_for_spam(user_id, None, None, [], None)


async def test_wrong_password_costs_one_check_and_is_refused(
        module: tuple[LoginSecurityModule, list[str]]) -> None:
    """At /login the checker answers for the account, so Synapse checks nothing itself."""
    ls, checks = module
    login_note(ls, "POST-1")
    with in_request("POST-1"):
        result = await ls.check_password_login("u", "m.login.password",
                                               {"password": "wrong"})
        assert result is not None and result[0] == "@u:hs"
        with pytest.raises(SynapseError) as refused:
            await spam_check(ls, "@u:hs")
    assert (refused.value.code, refused.value.errcode) == (403, "M_FORBIDDEN")
    assert checks == ["wrong"]


async def test_right_password_is_let_through(
        module: tuple[LoginSecurityModule, list[str]]) -> None:
    ls, checks = module
    login_note(ls, "POST-2")
    with in_request("POST-2"):
        assert await ls.check_password_login("u", "m.login.password",
                                             {"password": PASSWORD}) is not None
        assert await spam_check(ls, "@u:hs") == "NOT_SPAM"
    assert len(checks) == 1


async def test_a_login_without_a_note_or_verdict_is_refused(
        module: tuple[LoginSecurityModule, list[str]]) -> None:
    """No note: refused. A password-type note without a verdict: refused. A token: fine."""
    ls, _ = module
    with in_request("POST-3"), pytest.raises(SynapseError) as no_note:
        await spam_check(ls, "@u:hs")
    assert no_note.value.code == 403
    login_note(ls, "POST-4")
    with in_request("POST-4"), pytest.raises(SynapseError) as no_verdict:
        await spam_check(ls, "@u:hs")
    assert no_verdict.value.code == 403
    login_note(ls, "POST-5", "m.login.token")
    with in_request("POST-5"):
        assert await spam_check(ls, "@u:hs") == "NOT_SPAM"


async def test_uia_with_another_identity_is_refused_unchecked(
        module: tuple[LoginSecurityModule, list[str]]) -> None:
    """Outside /login, another account's identity gets the stand-in, whatever the password."""
    ls, checks = module
    for request_id, password in (("POST-6", PASSWORD), ("POST-7", "wrong")):
        with in_request(request_id, requester="@w:hs"):
            assert await ls.check_password_login("u", "m.login.password",
                                                 {"password": password}) \
                == (REAUTH_REFUSED, None)
    assert checks == []
    with in_request("POST-8", requester="@u:hs"):
        assert await ls.check_password_login("u", "m.login.password",
                                             {"password": PASSWORD}) == ("@u:hs", None)
