"""The enrolment page at ``/_synapse/client/hearth/mfa/``: sign in, scan, confirm.

The page signs people in with their password rather than an access token: Element users do
not handle tokens, and a user whose role requires two-factor authentication and whose grace
period is over cannot get a token until they have enrolled. The sign-in goes through the
same guard as ``/login`` — account and address locks, the role's address rules, and every
wrong password counted — and it never replaces an authenticator that is already set up.

Forms carry CSRF tokens from the shared ``synapse_modules.web_security`` helper, bound to a
random session cookie (see ``web.py``). Between the two steps the browser carries a ticket:
the user ID and an expiry, signed with a key derived from the MFA secret and bound to that
session, so it is useless in another browser. Templates live in ``config/templates/mfa/``
(an operator's Synapse ``custom_template_directory`` may override them).

Nothing the browser sends is trusted to be well formed (the page needs no login, so anyone
can post anything): a form that is not UTF-8 gets a 400 page, a user name no account can
have a 400 sign-in form, a cookie, Origin, CSRF token or ticket of any other shape than
ours the "expired" page, and a code that is not six ASCII digits the form again — each
counted in ``hearth_login_malformed_input_total``; never a 500.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from markupsafe import Markup
from synapse.module_api import ModuleApi

from hearth.synapse_compat.web import DirectServeHtmlResource, SynapseRequest
from hearth.synapse_modules.login_security import totp, web
from hearth.synapse_modules.login_security.config import LoginSecurityConfig
from hearth.synapse_modules.login_security.credentials import EnrolmentError, LoginGuard
from hearth.synapse_modules.login_security.gate import client_address
from hearth.synapse_modules.login_security.inputs import password_problem, user_name_problem
from hearth.synapse_modules.login_security.metrics import MALFORMED_INPUT
from hearth.synapse_modules.web_security import CSRF_FIELD, CsrfTokens

logger = logging.getLogger(__name__)

PAGE_PATH = "/_synapse/client/hearth/mfa"
TEMPLATES = ("mfa_sign_in.html", "mfa_enrol.html", "mfa_recovery_codes.html",
             "mfa_message.html")
TICKET_MS = 10 * 60_000


class UnreadableForm(ValueError):
    """The form's bytes are not UTF-8 (percent-encoded or not)."""


class MfaPageResource(DirectServeHtmlResource):
    """GET shows the sign-in form; POST handles ``action=sign_in`` and ``action=confirm``."""

    isLeaf = True

    def __init__(self, api: ModuleApi, guard: LoginGuard, config: LoginSecurityConfig,
                 ready: Callable[[], Awaitable[None]]) -> None:
        super().__init__()
        self._api = api
        self._guard = guard
        self._config = config
        self._ready = ready
        loaded = api.read_templates(list(TEMPLATES), config.mfa.template_dir)
        self._templates = dict(zip(TEMPLATES, loaded, strict=True))
        self._secure = config.public_baseurl.startswith("https://")
        self._csrf = CsrfTokens(config.mfa.keys.csrf)

    # --- responses -------------------------------------------------------------------------

    def _respond(self, request: SynapseRequest, code: int, template: str,
                 new_session: str | None = None, **context: Any) -> None:
        nonce = web.new_nonce()
        html = self._templates[template].render(
            nonce=nonce, server_name=self._config.server_name,
            page_url=self._config.enrol_url, **context)
        body = html.encode("utf-8")
        raw: Any = request  # Twisted's request methods are untyped
        raw.setResponseCode(code)
        for name, value in web.page_headers(nonce).items():
            raw.setHeader(name, value)
        raw.setHeader(b"Content-Type", b"text/html; charset=utf-8")
        raw.setHeader(b"Content-Length", b"%d" % len(body))
        if new_session is not None:
            raw.responseHeaders.addRawHeader(
                b"Set-Cookie",
                web.session_cookie(new_session, PAGE_PATH, self._secure).encode("ascii"))
        try:
            raw.write(body)
            raw.finish()
        except RuntimeError:  # the client went away
            logger.debug("login_security: MFA page client disconnected")

    def _message(self, request: SynapseRequest, code: int, title: str, message: str,
                 error: bool = True, retry: bool = True) -> None:
        self._respond(request, code, "mfa_message.html", title=title, message=message,
                      error=error, retry=retry)

    # --- handlers --------------------------------------------------------------------------

    def _refused(self, reason: str) -> None:
        MALFORMED_INPUT.labels(self._config.server_name, "page", reason).inc()

    def _on_page(self, request: SynapseRequest) -> bool:
        return (request.path or b"").rstrip(b"/") == PAGE_PATH.encode("ascii")

    async def _async_render_GET(self, request: SynapseRequest) -> None:
        if not self._on_page(request):
            self._message(request, 404, "Not found", "There is no page here.", retry=True)
            return
        session = web.new_session()
        self._respond(request, 200, "mfa_sign_in.html", new_session=session,
                      csrf_token=self._csrf.issue(session, web.CSRF_PURPOSE), user="",
                      error=None)

    async def _async_render_POST(self, request: SynapseRequest) -> None:
        try:
            await self._post(request)
        except Exception:
            logger.exception("login_security: the MFA page failed")
            self._message(request, 500, "Something went wrong",
                          "The request could not be completed. Please try again later.")

    async def _post(self, request: SynapseRequest) -> None:
        if not self._on_page(request):
            self._message(request, 404, "Not found", "There is no page here.")
            return
        try:
            form = _form(request)
        except UnreadableForm:
            self._refused("form_encoding")
            self._message(request, 400, "The form could not be read",
                          "Part of what your browser sent is not UTF-8 text. Open the page "
                          "again and retry.")
            return
        session = web.cookie_value(_header(request, b"Cookie"))
        refusal = None
        if not web.same_origin(_header(request, b"Origin"), self._config.public_baseurl):
            refusal = "origin"
        elif session is None:
            refusal = "session_cookie"
        elif not self._csrf.verify(form.get(CSRF_FIELD), session, web.CSRF_PURPOSE):
            refusal = "csrf_token"
        if refusal is not None or session is None:
            self._refused(refusal or "session_cookie")
            self._message(request, 403, "This form has expired",
                          "The form was not sent from this page, or it is out of date. "
                          "Open the page again and retry.")
            return
        await self._ready()
        action = form.get("action")
        if action == "sign_in":
            await self._sign_in(request, form, session)
        elif action == "confirm":
            await self._confirm(request, form, session)
        else:
            self._message(request, 400, "Unknown action",
                          "The form asked for something this page does not do.")

    async def _sign_in(self, request: SynapseRequest, form: dict[str, str], session: str
                       ) -> None:
        csrf = self._csrf.issue(session, web.CSRF_PURPOSE)
        user = form.get("user", "").strip()
        password = form.get("password", "")
        if not user or not password:
            self._respond(request, 400, "mfa_sign_in.html", csrf_token=csrf, user=user,
                          error="Enter your user name and your password.")
            return
        for field, problem in (("user_name", user_name_problem(user)),
                               ("password", password_problem(password))):
            if problem is None:
                continue
            self._refused(field)
            self._respond(request, 400, "mfa_sign_in.html", csrf_token=csrf, user="",
                          error=problem)
            return
        user_id = user if user.startswith("@") else f"@{user}:{self._config.server_name}"
        address = client_address(request, self._config.trusted_proxies)
        canonical, refusal = await self._guard.sign_in(user_id, password, address)
        if refusal is not None or canonical is None:
            message = refusal.message if refusal else "Wrong user name or password."
            self._respond(request, refusal.status if refusal else 403, "mfa_sign_in.html",
                          csrf_token=csrf, user=user, error=message)
            return
        try:
            enrolment = await self._guard.begin_enrolment(canonical)
        except EnrolmentError as error:
            self._message(request, 409 if error.reason == "already_enrolled" else 400,
                          "Already set up",
                          f"{error.message} If you lost your authenticator, log in with a "
                          "recovery code instead.", retry=False)
            return
        self._show_enrolment(request, 200, canonical, enrolment.secret, enrolment.uri, session)

    def _show_enrolment(self, request: SynapseRequest, code: int, user_id: str, secret: str,
                        uri: str, session: str, error: str | None = None) -> None:
        csrf = self._csrf.issue(session, web.CSRF_PURPOSE)
        ticket = web.new_ticket(self._config.mfa.keys.tickets, user_id, session,
                                self._api.get_current_time_msec() + TICKET_MS)
        grouped = " ".join(secret[i:i + 4] for i in range(0, len(secret), 4))
        self._respond(request, code, "mfa_enrol.html", csrf_token=csrf, user_id=user_id,
                      ticket=ticket, secret_grouped=grouped, qr_svg=Markup(totp.qr_svg(uri)),  # noqa: S704 - our own SVG
                      ticket_minutes=TICKET_MS // 60_000, error=error)

    def _ticket_ok(self, user_id: str, ticket: str, session: str) -> bool:
        return web.ticket_valid(self._config.mfa.keys.tickets, ticket, user_id, session,
                                self._api.get_current_time_msec())

    async def _confirm(self, request: SynapseRequest, form: dict[str, str], session: str
                       ) -> None:
        user_id = form.get("user", "")
        if not self._ticket_ok(user_id, form.get("ticket", ""), session):
            self._refused("ticket")
            self._message(request, 403, "This setup has expired",
                          "Setting up took too long or the page was changed. Start again; "
                          "scan the new QR code it shows.")
            return
        pending = await self._guard.pending_enrolment(user_id)
        if pending is None:
            self._message(request, 409, "Nothing to confirm",
                          "There is no setup waiting for this account (it may be finished "
                          "already). Start again if you need to.")
            return
        code = totp.normalize_code(form.get("code", ""))
        if code is None:
            self._refused("code")
            self._show_enrolment(request, 400, user_id, pending.secret, pending.uri, session,
                                 error="Enter the 6 digits your authenticator app shows.")
            return
        try:
            codes = await self._guard.confirm_enrolment(user_id, code, via="page")
        except EnrolmentError as error:
            if error.reason == "wrong_code":
                self._show_enrolment(request, 400, user_id, pending.secret, pending.uri,
                                     session, error=error.message)
            else:
                self._message(request, 409, "Could not finish", error.message)
            return
        self._respond(request, 200, "mfa_recovery_codes.html", recovery_codes=codes)


def _header(request: SynapseRequest, name: bytes) -> str | None:
    value = request.getHeader(name)
    if value is None:
        return None
    return value.decode("latin-1") if isinstance(value, bytes) else str(value)


def _form(request: SynapseRequest) -> dict[str, str]:
    """The first value of each form field, decoded as UTF-8; UnreadableForm when one is not.

    Strict, not with replacement characters: a password that arrived mangled must not be
    checked (and counted) as if it were what the person typed.
    """
    args: dict[bytes, list[bytes]] = request.args or {}
    try:
        return {key.decode("utf-8"): values[0].decode("utf-8")
                for key, values in args.items() if values}
    except UnicodeDecodeError:
        raise UnreadableForm("the form is not UTF-8") from None
