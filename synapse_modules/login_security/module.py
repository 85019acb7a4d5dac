"""Registration with Synapse and thin callbacks: lockout, TOTP and address rules at login.

How a ``POST /login`` with a password goes (Synapse 1.163):

1. The gate (``gate.py``, at ``/_matrix``) notes the client address, resolved from the TCP
   peer and — only from trusted proxies — ``X-Forwarded-For``.
2. Synapse's own failed-login limiter (``rc_login.failed_attempts``) may refuse with 429
   before anything else; the template sets its burst above our lockout threshold so that
   our lock, with its clear message, comes first.
3. Synapse calls our auth checker for ``m.login.password`` (or ``org.hearth.login.totp``).
   Synapse swallows exceptions from auth checkers and, for ``m.login.password``, falls back
   to its own password check when a checker returns None — so the checker cannot refuse a
   login by itself. It checks the credentials, counts failures, and leaves a ``Verdict``
   for the request. For a ``/login`` to a locked account (or from a blocked address, or
   with a malformed code) it does not look at the password at all: it reports the user as
   authenticated so that step 4 refuses with the lock message whatever the password was
   (a locked account must not tell a guesser when a guess is right).
4. Synapse calls ``check_login_for_spam`` before creating the device. It does not catch
   exceptions, so our ``SynapseError`` (status, errcode, message) reaches the client. It
   reads the verdict and decides (``decisions.decide_login``): locks, the role's address
   rule, the second factor, the enrolment grace period.

Outside ``/login`` (user-interactive auth, e.g. changing the password) the checker only
answers for credentials it verified: success for a right password (with or without a valid
code), None otherwise — UIA is not gated by the second factor (it needs a logged-in session
already) and Synapse's own UIA failure limiter applies.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any, Literal, cast

from synapse.api.errors import Codes, SynapseError
from synapse.module_api import NOT_SPAM, ModuleApi
from synapse.types import JsonDict

from hearth.synapse_modules.login_security.api import (
    ADMIN_PREFIX,
    MFA_PREFIX,
    AdminApiResource,
    MfaApiResource,
    refusal_error,
)
from hearth.synapse_modules.login_security.config import LoginSecurityConfig
from hearth.synapse_modules.login_security.credentials import LoginGuard
from hearth.synapse_modules.login_security.decisions import MFA_FIELD, Outcome, Verdict
from hearth.synapse_modules.login_security.gate import ClientAddressGate
from hearth.synapse_modules.login_security.page import PAGE_PATH, MfaPageResource
from hearth.synapse_modules.login_security.request_notes import LoginRequest, Registry
from hearth.synapse_modules.login_security.roles import RoleLookup
from hearth.synapse_modules.login_security.store import LATEST, LoginStore
from hearth.synapse_modules.synapse_compat import check_supported
from hearth.synapse_modules.synapse_compat.context import current_request_record
from hearth.synapse_modules.synapse_compat.password_hash import check_password

logger = logging.getLogger(__name__)

PASSWORD_TYPE = "m.login.password"  # noqa: S105 - a login type
TOTP_TYPE = "org.hearth.login.totp"
READY_TIMEOUT_S = 15.0
PRUNE_INTERVAL_MS = 60 * 60_000

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
        self._logins: Registry[LoginRequest] = Registry()
        self._verdicts: Registry[Verdict] = Registry()
        self._background = api.should_run_background_tasks()
        self._ready = False

        api.register_password_auth_provider_callbacks(auth_checkers={
            (PASSWORD_TYPE, ("password",)): self.check_password_login,
            (TOTP_TYPE, ("password", "code")): self.check_totp_login,
        })
        api.register_spam_checker_callbacks(check_login_for_spam=self.check_login_for_spam)
        api.register_web_resource("/_matrix", ClientAddressGate(self._logins,
                                                                config.trusted_proxies))
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

    def _login_note(self, context_request: object | None) -> LoginRequest | None:
        request_id = getattr(context_request, "request_id", None)
        return self._logins.get(request_id) if isinstance(request_id, str) else None

    def _note_verdict(self, context_request: object | None, verdict: Verdict) -> None:
        if context_request is not None:
            self._verdicts.put(id(context_request), verdict, anchor=context_request)

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
        note = self._login_note(context_request)
        user_id = username if username.startswith("@") else \
            self._api.get_qualified_user_id(username)
        # Until the check ends, the verdict says so: a crash then still refuses the login.
        verdict = Verdict(user_id, Outcome.PENDING)
        self._note_verdict(context_request, verdict)
        try:
            await self._wait_ready()
            return await self._checked(verdict, note, user_id, password, code, with_code)
        except Exception:
            logger.exception("login_security: checking the credentials of %s failed", user_id)
            verdict.outcome = Outcome.CHECK_FAILED
            return None

    async def _checked(self, verdict: Verdict, note: LoginRequest | None, user_id: str,
                       password: Any, code: Any, with_code: bool) -> CheckerResult:
        address = note.address if note is not None else None
        if note is not None:
            # A /login: refuse before looking at the password (step 3 in the module doc).
            canonical = await self._guard.canonical_user(user_id)
            if canonical is not None:
                verdict.user_id = canonical
                refusal = await self._guard.refusal_before_check(canonical, address)
                malformed = not isinstance(password, str) or (
                    with_code and not isinstance(code, str))
                if refusal is not None:
                    verdict.outcome = (Outcome.ACCOUNT_LOCKED
                                       if refusal.reason == "account_locked"
                                       else Outcome.ADDRESS_BLOCKED)
                    return canonical, None
                if malformed:
                    verdict.outcome = Outcome.MALFORMED
                    return canonical, None
        if not isinstance(password, str) or (with_code and not isinstance(code, str)):
            verdict.outcome = Outcome.PASSWORD_WRONG
            return None
        result = await self._guard.check(user_id, password, code if with_code else None,
                                         address)
        verdict.outcome = result.outcome
        verdict.second_factor = result.second_factor
        if result.user_id is not None:
            verdict.user_id = result.user_id
        if result.user_id is None or not result.outcome.password_proven:
            return None
        if note is None and result.outcome not in (Outcome.PASSWORD_OK,
                                                   Outcome.SECOND_FACTOR_OK,
                                                   Outcome.CODE_MISSING):
            return None  # outside /login nobody refuses later: answer only what was verified
        return result.user_id, self._response_callback(verdict)

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
        context_request = current_request_record()
        if context_request is None:
            raise SynapseError(403, "Your login could not be checked just now.",
                               Codes.FORBIDDEN)
        verdict = self._verdicts.pop(id(context_request))
        note = self._login_note(context_request)
        if verdict is not None and verdict.user_id != user_id:
            logger.error("login_security: verdict for %s but login of %s; refusing",
                         verdict.user_id, user_id)
            verdict.outcome = Outcome.CHECK_FAILED
        await self._wait_ready()
        decision = await self._guard.decide(user_id, verdict, note.address if note else None)
        if decision.refusal is not None:
            logger.info("login_security: login of %s refused: %s", user_id,
                        decision.refusal.reason)
            raise refusal_error(decision.refusal)
        if verdict is not None:
            verdict.notice = decision.notice
        return NOT_SPAM
