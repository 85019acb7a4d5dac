"""Registration with Synapse and thin callbacks: lockout, TOTP and address rules at login.

How a ``POST /login`` with a password goes (Synapse 1.163):

1. The gate (``gate.py``, at ``/_matrix``) sees every path Synapse routes to its login
   servlet (read from the servlet's own patterns) and creates the request's note: the
   client address, resolved from the TCP peer and — only from trusted proxies —
   ``X-Forwarded-For``, and the body's login type.
2. Synapse's own failed-login limiter (``rc_login.failed_attempts``) may refuse with 429
   before anything else; the template sets its burst above our lockout threshold so that
   our lock, with its clear message, comes first.
3. Synapse calls our auth checker for ``m.login.password`` (or ``org.hearth.login.totp``).
   Synapse swallows exceptions from auth checkers and, for ``m.login.password``, falls back
   to its own password check when a checker returns None — so the checker cannot refuse a
   login by itself. For every existing account it decides the outcome (locks first, without
   looking at the password; then one bcrypt check of the password and the code), writes
   the ``Verdict`` into the request's note, and reports the user as authenticated, so that
   Synapse never runs a second password check of its own and step 4 answers alike for right
   and wrong passwords while locked.
4. Synapse calls ``check_login_for_spam`` before creating the device. It does not catch
   exceptions, so our ``SynapseError`` (status, errcode, message) reaches the client. It
   reads the verdict from the note and decides (``decisions.decide_login``): wrong
   passwords, locks, the role's address rule, the second factor, the grace period. A login
   without a note, or a password login without a verdict, is refused (fail closed).

User-interactive auth (UIA, e.g. deleting devices or changing the password) calls the same
checker outside ``/login``: it accepts only the requester's own identity. Another identity
(or a UIA stage without a logged-in requester) and a locked account are answered with a
stand-in identity that Synapse then refuses (``403``) whatever the password; failures count
like failed logins.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any, Literal, cast

from synapse.api.errors import Codes, SynapseError
from synapse.module_api import NOT_SPAM, ModuleApi
from synapse.types import JsonDict

from hearth.synapse_compat import check_supported
from hearth.synapse_compat.context import (
    current_request_record,
    current_requester,
)
from hearth.synapse_compat.front_door import front_door
from hearth.synapse_compat.multipart_refusal import (
    answer_multipart_with_matrix_error,
)
from hearth.synapse_compat.password_hash import check_password
from hearth.synapse_modules.login_security.api import (
    ADMIN_PREFIX,
    MFA_PREFIX,
    AdminApiResource,
    MfaApiResource,
    refusal_error,
)
from hearth.synapse_modules.login_security.config import LoginSecurityConfig
from hearth.synapse_modules.login_security.credentials import ACCEPTED, REFUSED, LoginGuard
from hearth.synapse_modules.login_security.decisions import MFA_FIELD, Outcome, Verdict
from hearth.synapse_modules.login_security.gate import ClientAddressGate
from hearth.synapse_modules.login_security.inputs import password_problem
from hearth.synapse_modules.login_security.metrics import REFUSED_LOGINS
from hearth.synapse_modules.login_security.page import PAGE_PATH, MfaPageResource
from hearth.synapse_modules.login_security.request_notes import RequestNote, RequestNotes, Route
from hearth.synapse_modules.login_security.roles import RoleLookup
from hearth.synapse_modules.login_security.store import LATEST, LoginStore

logger = logging.getLogger(__name__)

PASSWORD_TYPE = "m.login.password"  # noqa: S105 - a login type
TOTP_TYPE = "org.hearth.login.totp"
READY_TIMEOUT_S = 15.0
PRUNE_INTERVAL_MS = 60 * 60_000
# What a refused UIA stage reports as "authenticated": not a user ID, so it never matches
# the requester and Synapse answers 403 whatever the password was.
REAUTH_REFUSED = "org.hearth.reauthentication_refused"

LoginCallback = Callable[[Any], Awaitable[None]]
CheckerResult = tuple[str, LoginCallback | None] | None


class LoginSecurityModule:
    """Lockout, TOTP second factor and address rules for Synapse's password login."""

    def __init__(self, config: LoginSecurityConfig, api: ModuleApi) -> None:
        self._config = config
        self._api = api
        self._store = LoginStore(api.run_db_interaction)
        self._guard = LoginGuard(config, self._store, RoleLookup(api.is_user_admin),
                                 api.get_current_time_msec, self._in_thread)
        self._notes = RequestNotes()
        self._background = api.should_run_background_tasks()
        self._ready = False

        api.register_password_auth_provider_callbacks(auth_checkers={
            (PASSWORD_TYPE, ("password",)): self.check_password_login,
            (TOTP_TYPE, ("password", "code")): self.check_totp_login,
        })
        api.register_spam_checker_callbacks(check_login_for_spam=self.check_login_for_spam)
        answer_multipart_with_matrix_error()  # before routing, where the gate cannot see
        gate = ClientAddressGate(self._notes, config.trusted_proxies, config.server_name)
        front_door(api).add("login_security", gate.intercept)
        api.register_web_resource(MFA_PREFIX, MfaApiResource(
            api, self._guard, MFA_PREFIX, config.trusted_proxies, self._wait_ready))
        api.register_web_resource(ADMIN_PREFIX, AdminApiResource(
            api, self._guard, ADMIN_PREFIX, config.trusted_proxies, self._wait_ready))
        api.register_web_resource(PAGE_PATH, MfaPageResource(api, self._guard, config,
                                                             self._wait_ready))
        if self._background:
            api.delayed_background_call(0, self._migrate, desc="hearth_login_migrate")
            api.looping_background_call(self._prune, PRUNE_INTERVAL_MS,
                                        desc="hearth_login_prune")
        logger.info("login_security loaded: lockout=%d/%dms trusted_proxies=%d ip_rules=%s "
                    "mfa_required=%s background=%s", config.lockout.account_failures,
                    config.lockout.window_ms, len(config.trusted_proxies),
                    ",".join(sorted(config.ip_rules)) or "-",
                    ",".join(sorted(config.mfa.required_roles)) or "-", self._background)

    @staticmethod
    def parse_config(config: dict[str, Any]) -> LoginSecurityConfig:
        """Called by Synapse before ``__init__``; a bad value stops the start."""
        check_supported("login_security")
        return LoginSecurityConfig.parse(config)

    # --- schema and housekeeping -----------------------------------------------------------

    async def _migrate(self) -> None:
        before = await self._store.migrate()
        if before != LATEST:
            logger.info("login_security: schema migrated from %d to %d", before, LATEST)
        self._ready = True

    async def _wait_ready(self) -> None:
        """Wait (briefly) until the schema exists; the background process creates it."""
        waited = 0.0
        while not self._ready:
            try:
                if await self._store.schema_version() >= LATEST:
                    self._ready = True
                    return
            except Exception:  # the version table does not exist yet
                logger.debug("login_security: schema not ready yet", exc_info=True)
            if waited >= READY_TIMEOUT_S:
                raise SynapseError(503, "Login security is starting; try again shortly",
                                   Codes.UNKNOWN)
            await self._api.sleep(0.1)
            waited += 0.1

    async def _prune(self) -> None:
        if self._ready:
            await self._guard.prune()

    async def _in_thread(self, func: Callable[[str, str | None, str], bool], password: str,
                         password_hash: str | None, pepper: str) -> bool:
        assert func is check_password
        return await self._api.defer_to_thread(func, password, password_hash, pepper)

    # --- per-request notes -----------------------------------------------------------------

    def _note(self, context_request: object | None) -> RequestNote | None:
        request_id = getattr(context_request, "request_id", None)
        return self._notes.get(request_id if isinstance(request_id, str) else None)

    # --- password auth provider ------------------------------------------------------------

    async def check_password_login(self, username: str, login_type: str,
                                   login_dict: JsonDict) -> CheckerResult:
        """``m.login.password``: the password, optionally followed by a code."""
        return await self._check(username, login_dict.get("password"), None, False)

    async def check_totp_login(self, username: str, login_type: str,
                               login_dict: JsonDict) -> CheckerResult:
        """``org.hearth.login.totp``: ``password`` and ``code`` (TOTP or recovery code)."""
        return await self._check(username, login_dict.get("password"), login_dict.get("code"),
                                 True)

    async def _check(self, username: str, password: Any, code: Any, with_code: bool
                     ) -> CheckerResult:
        context_request = current_request_record()
        note = self._note(context_request)
        user_id = username if username.startswith("@") else \
            self._api.get_qualified_user_id(username)
        if note is not None and note.route is Route.LOGIN:
            return await self._check_login(note, user_id, password, code, with_code)
        return await self._check_reauthentication(context_request, note, user_id, password,
                                                  code, with_code)

    async def _check_login(self, note: RequestNote, user_id: str, password: Any, code: Any,
                           with_code: bool) -> CheckerResult:
        # Until the check ends, the verdict says so: a crash then still refuses the login.
        verdict = note.verdict = Verdict(user_id, Outcome.PENDING)
        try:
            await self._wait_ready()
            return await self._decided_login(verdict, note.address, user_id, password, code,
                                             with_code)
        except Exception:
            logger.exception("login_security: checking the credentials of %s failed", user_id)
            verdict.outcome = Outcome.CHECK_FAILED
            return None

    async def _decided_login(self, verdict: Verdict, address: str | None, user_id: str,
                             password: Any, code: Any, with_code: bool) -> CheckerResult:
        canonical = await self._guard.canonical_user(user_id)
        if canonical is None:
            # Synapse's own lookup finds nobody either, so it checks no password.
            verdict.outcome = Outcome.UNKNOWN_USER
            await self._guard.record_failure(None, address, "unknown_user")
            return None
        verdict.user_id = canonical
        enrolled = await self._guard.enrolled(canonical)
        refusal = await self._guard.refusal_before_check(canonical, address,
                                                         second_factor_possible=enrolled)
        # An account-wide lock an enrolled owner may pass with a valid code: anything less
        # is answered as locked, so that the answer says nothing about the password.
        only_with_code = enrolled and refusal is None and \
            await self._guard.refusal_before_check(canonical, address) is not None
        if refusal is not None:
            verdict.outcome = (Outcome.ACCOUNT_LOCKED if refusal.reason == "account_locked"
                               else Outcome.ADDRESS_BLOCKED)
        elif password_problem(password) is not None or (
                with_code and not isinstance(code, str)):
            # Cannot be checked (not a string, a lone surrogate): a failed attempt all the same.
            verdict.outcome = Outcome.MALFORMED
            await self._guard.record_failure(canonical, address, "malformed")
        else:
            result = await self._guard.check(canonical, password,
                                             code if with_code else None, address)
            verdict.outcome = result.outcome
            verdict.second_factor = result.second_factor
            if only_with_code and result.outcome is not Outcome.SECOND_FACTOR_OK:
                verdict.outcome = Outcome.ACCOUNT_LOCKED
            elif result.outcome is Outcome.PASSWORD_WRONG and not result.has_password:
                return None  # no password at all (deactivated): Synapse's check is free
        # Authenticated as far as Synapse knows, whatever the outcome: the login spam check
        # refuses all but a good one, and Synapse does not check the password a second time.
        return canonical, self._response_callback(verdict)

    async def _check_reauthentication(self, context_request: object | None,
                                      note: RequestNote | None, user_id: str, password: Any,
                                      code: Any, with_code: bool) -> CheckerResult:
        try:
            await self._wait_ready()
            if not isinstance(password, str) or (with_code and not isinstance(code, str)):
                return None  # Synapse refuses a password that is not a string itself
            if password_problem(password) is not None:
                # A lone surrogate: Synapse's own check would crash on it (a 500).
                REFUSED_LOGINS.labels(self._config.server_name, "malformed").inc()
                return REAUTH_REFUSED, None
            found = await self._guard.check_reauthentication(
                current_requester(context_request), user_id, password,
                code if with_code else None, note.address if note is not None else None)
        except Exception:
            logger.exception("login_security: re-authentication of %s failed; refusing",
                             user_id)
            REFUSED_LOGINS.labels(self._config.server_name, "uia_check_failed").inc()
            return REAUTH_REFUSED, None
        if found.answer == ACCEPTED and found.user_id is not None:
            return found.user_id, None
        if found.answer == REFUSED:
            return REAUTH_REFUSED, None
        return None  # wrong (counted); Synapse's own check then fails too

    @staticmethod
    def _response_callback(verdict: Verdict) -> LoginCallback:
        async def add_notice(response: Any) -> None:
            if verdict.notice:
                cast(dict[str, Any], response)[MFA_FIELD] = verdict.notice
        return add_notice

    # --- login spam check ------------------------------------------------------------------

    async def check_login_for_spam(
        self, user_id: str, device_id: str | None, initial_display_name: str | None,
        request_info: Any, auth_provider_id: str | None,
    ) -> Literal["NOT_SPAM"]:
        """Refuse the login (a SynapseError reaches the client as it is) or let it through."""
        try:
            return await self._login_decision(user_id)
        except SynapseError:
            raise
        except Exception:
            logger.exception("login_security: deciding the login of %s failed; refusing",
                             user_id)
            raise SynapseError(403, "Your login could not be checked just now. Please try "
                               "again in a moment.", Codes.FORBIDDEN) from None

    async def _login_decision(self, user_id: str) -> Literal["NOT_SPAM"]:
        note = self._note(current_request_record())
        if note is None or note.route is not Route.LOGIN:
            # Every /login passes the gate; without its note nothing can be decided.
            REFUSED_LOGINS.labels(self._config.server_name, "note_missing").inc()
            logger.error("login_security: login of %s without a request note; refusing",
                         user_id)
            raise SynapseError(403, "Your login could not be checked just now. Please try "
                               "again in a moment.", Codes.FORBIDDEN)
        verdict = note.verdict
        if verdict is not None and verdict.user_id != user_id:
            logger.error("login_security: verdict for %s but login of %s; refusing",
                         verdict.user_id, user_id)
            verdict.outcome = Outcome.CHECK_FAILED
        await self._wait_ready()
        decision = await self._guard.decide(user_id, verdict, note.address,
                                            password_login=note.needs_verdict)
        if decision.refusal is not None:
            logger.info("login_security: login of %s refused: %s", user_id,
                        decision.refusal.reason)
            raise refusal_error(decision.refusal)
        if verdict is not None:
            verdict.notice = decision.notice
        return NOT_SPAM
