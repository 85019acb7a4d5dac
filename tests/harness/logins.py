"""Login security tests: raw /login from chosen addresses, an authenticator, admin calls."""

from __future__ import annotations

import json
import re
import secrets
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Literal

import httpx
import psycopg2
import pyotp
import pytest

from tests.harness.accounts import CLIENT_V3, Reply
from tests.harness.server import Homeserver

LOGIN = f"{CLIENT_V3}/login"
MFA_API = "/_synapse/client/hearth/v1/mfa"
ADMIN_API = "/_synapse/client/hearth/v1/admin/login_security"
MFA_PAGE = "/_synapse/client/hearth/mfa/"
TOTP_TYPE = "org.hearth.login.totp"
MFA_FIELD = "org.hearth.mfa"

# Strings an attacker tries in a code field; none is six ASCII digits or a recovery code.
MALFORMED_CODES = [
    pytest.param("١٢٣٤٥٦", id="arabic-indic"),
    pytest.param("۱۲۳۴۵۶", id="extended-arabic-indic"),
    pytest.param("１２３４５６", id="full-width"),  # noqa: RUF001 - look-alikes
    pytest.param("¹²³⁴⁵⁶", id="superscript"),
    pytest.param("१२३४५६", id="devanagari"),
    pytest.param("𝟏𝟐𝟑𝟒𝟓𝟔", id="mathematical-bold"),  # noqa: RUF001 - look-alikes
    pytest.param("12345", id="five-digits"),
    pytest.param("1234567", id="seven-digits"),
    pytest.param("+12345", id="plus-sign"),
    pytest.param("-12345", id="minus-sign"),
    pytest.param("12345\x00", id="nul"),
    pytest.param("12345\ud800", id="lone-surrogate"),
    pytest.param("", id="empty"),
    pytest.param("1" * 100_000, id="huge"),
    pytest.param("12\u200b3456", id="zero-width-space"),
]
# JSON values of other types where a code goes.
NON_STRING_CODES = [
    pytest.param(123456, id="number"),
    pytest.param(1.5, id="fraction"),
    pytest.param(None, id="null"),
    pytest.param(True, id="boolean"),
    pytest.param(["123456"], id="list"),
    pytest.param({"code": "123456"}, id="object"),
]


async def request(
    server: Homeserver, method: str, path: str, body: Any = None, *, token: str = "",
    source: str = "127.0.0.1", forwarded_for: str | None = None, raw: bytes | None = None,
) -> Reply:
    """One request from the local address ``source``, optionally with X-Forwarded-For."""
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    if forwarded_for is not None:
        headers["X-Forwarded-For"] = forwarded_for
    transport = httpx.AsyncHTTPTransport(local_address=source)
    async with httpx.AsyncClient(base_url=server.base_url, timeout=30.0,
                                 transport=transport) as http:
        if raw is not None:
            response = await http.request(method, path, content=raw, headers=headers)
        else:
            response = await http.request(method, path, json=body, headers=headers)
    try:
        data = response.json()
    except ValueError:
        data = {}
    return Reply(response.status_code, data if isinstance(data, dict) else {"value": data})


def as_json(body: dict[str, Any]) -> bytes:
    """The body with non-ASCII escaped, so lone surrogates reach the server as \\udXXX."""
    return json.dumps(body).encode("ascii")


async def raw_login(server: Homeserver, login_type: str, user: str, password: object,
                    **fields: object) -> Reply:
    """POST /login with any JSON values (surrogates, wrong types) where the fields go."""
    body = {"type": login_type, "identifier": identifier(user), "password": password, **fields}
    return await request(server, "POST", LOGIN, raw=as_json(body))


def assert_matrix_error(reply: Reply, status: int, errcode: str) -> None:
    """A Matrix error: this status and errcode, and a message for a person."""
    assert (reply.status, reply.errcode) == (status, errcode), reply
    assert isinstance(reply.body.get("error"), str) and reply.body["error"]


def identifier(user: str) -> dict[str, Any]:
    return {"type": "m.id.user", "user": user}


async def password_login(server: Homeserver, user: str, password: str, **kw: Any) -> Reply:
    body = {"type": "m.login.password", "identifier": identifier(user), "password": password}
    return await request(server, "POST", LOGIN, body, **kw)


async def totp_login(server: Homeserver, user: str, password: str, code: Any, **kw: Any
                     ) -> Reply:
    body = {"type": TOTP_TYPE, "identifier": identifier(user), "password": password,
            "code": code}
    return await request(server, "POST", LOGIN, body, **kw)


@dataclass
class Authenticator:
    """An authenticator app: hands out codes for steps not used yet, waiting when it must.

    The server accepts the step before and after the current one, each once. ``next_code``
    picks the earliest unused step that stays valid for a few seconds.
    """

    secret: str
    last_step: int = -1
    totp: pyotp.TOTP = field(init=False)

    def __post_init__(self) -> None:
        self.totp = pyotp.TOTP(self.secret)

    def next_code(self) -> str:
        while True:
            now = time.time()
            current = int(now // 30)
            lowest = current - 1 if now % 30 < 25 else current
            step = max(lowest, self.last_step + 1)
            if step <= current + 1:
                self.last_step = step
                return self.totp.generate_otp(step)
            time.sleep((step - 1) * 30 - now + 0.1)

    def wrong_code(self) -> str:
        valid = {self.totp.generate_otp(int(time.time() // 30) + d) for d in (-1, 0, 1)}
        while True:
            code = f"{secrets.randbelow(1_000_000):06d}"
            if code not in valid:
                return code


async def enrol(server: Homeserver, token: str, password: str) -> tuple[Authenticator, list[str]]:
    """Set up TOTP through the API; returns the authenticator and the recovery codes."""
    begun = await request(server, "POST", f"{MFA_API}/totp/begin", {}, token=token)
    assert begun.status == 200, begun
    app = Authenticator(begun.body["secret"])
    confirmed = await request(server, "POST", f"{MFA_API}/totp/confirm",
                              {"code": app.next_code(), "password": password}, token=token)
    assert confirmed.status == 200, confirmed
    codes: list[str] = confirmed.body["recovery_codes"]
    return app, codes


async def begin_and_confirm(server: Homeserver, token: str, code: object,
                            password: object) -> Reply:
    """Start TOTP set-up through the API, then confirm it with these (any JSON) values."""
    begun = await request(server, "POST", f"{MFA_API}/totp/begin", {}, token=token)
    assert begun.status == 200, begun
    return await request(server, "POST", f"{MFA_API}/totp/confirm", token=token,
                         raw=as_json({"code": code, "password": password}))


def unique_address(prefix: str = "198.51.100") -> str:
    return f"{prefix}.{secrets.randbelow(250) + 2}"


def metric(text: str, name: str, **labels: str) -> float:
    """The value of one series in Prometheus text output (0 when absent)."""
    for line in text.splitlines():
        if not line.startswith(name + "{"):
            continue
        if all(f'{k}="{v}"' in line for k, v in labels.items()):
            return float(line.rsplit(" ", 1)[1])
    return 0.0


async def metrics(server: Homeserver) -> str:
    async with httpx.AsyncClient(timeout=10.0) as http:
        return (await http.get(server.metrics_url)).text


async def malformed_inputs(server: Homeserver, endpoint: str, reason: str) -> float:
    """How many inputs the server has refused as malformed at ``endpoint`` for ``reason``."""
    return metric(await metrics(server), "hearth_login_malformed_input_total",
                  endpoint=endpoint, reason=reason)


@contextmanager
def database_cursor(server: Homeserver) -> Iterator[tuple[Any, Literal["sqlite", "postgres"]]]:
    """A cursor on the server's own database and its engine; committed when the block ends."""
    settings = dict(s.split("=", 1) for s in server.settings if s.startswith("database."))
    if settings.get("database.engine") == "postgres":
        conn = psycopg2.connect(host=settings["database.host"],
                                port=int(settings["database.port"]),
                                user=settings["database.user"],
                                dbname=settings["database.name"])
        try:
            with conn, conn.cursor() as cur:
                yield cur, "postgres"
        finally:
            conn.close()
        return
    lite = sqlite3.connect(server.data_dir / "homeserver.db", timeout=30)
    try:
        with lite:
            yield lite.cursor(), "sqlite"
    finally:
        lite.close()


def database_execute(server: Homeserver, sql: str, params: tuple[Any, ...]) -> int:
    """Run one statement on the server's database (``?`` placeholders); rows changed."""
    with database_cursor(server) as (cur, engine):
        cur.execute(sql.replace("?", "%s") if engine == "postgres" else sql, params)
        return int(cur.rowcount)


async def page_sign_in(browser: httpx.AsyncClient, user: str, password: str,
                       **post: Any) -> httpx.Response:
    """Sign in on the enrolment page as a browser does: fetch the form, send it back."""
    page = await browser.get(MFA_PAGE)
    return await browser.post(MFA_PAGE, data={
        "action": "sign_in", "csrf_token": page_field(page.text, "csrf_token"),
        "user": user, "password": password}, **post)


async def page_signed_in(browser: httpx.AsyncClient, user: str, password: str
                         ) -> tuple[str, str]:
    """Signed in on the page: the CSRF token and the enrolment ticket it shows."""
    page = await browser.get(MFA_PAGE)
    csrf = page_field(page.text, "csrf_token")
    enrol = await browser.post(MFA_PAGE, data={"action": "sign_in", "csrf_token": csrf,
                                               "user": user, "password": password})
    assert enrol.status_code == 200, enrol.text
    return csrf, page_field(enrol.text, "ticket")


def page_field(html: str, name: str) -> str:
    """The value of a hidden or text input in the enrolment page."""
    match = re.search(rf'name="{name}" value="([^"]*)"', html)
    assert match, f"no field {name} in page"
    return match.group(1)
