"""JSON APIs: a user's own second factor, and the admin actions.

User API, under ``/_synapse/client/hearth/v1/mfa`` (access token required):

    GET  .../status           {"totp_enabled", "recovery_codes_left", "required", ...}
    POST .../totp/begin       {}  -> {"secret", "otpauth_uri", ...}: a new pending secret
    POST .../totp/confirm     {"code": "123456", "password": "..."} -> {"recovery_codes": [...]}

Admin API, under ``/_synapse/client/hearth/v1/admin/login_security`` (server admins only;
401 without a valid token, 403 otherwise):

    GET  .../users/<user_id>              failures, lock, second factor
    POST .../users/<user_id>/unlock       end a lockout and forget the failures
    POST .../users/<user_id>/mfa/reset    remove TOTP and recovery codes (grace restarts)
    POST .../addresses/<address>/unlock   end an address block (an IPv6 address, or its
                                          /64 written ``2001:db8:1:2::%2F64``, unblocks
                                          the /64 that failures are counted under)

Errors are Matrix errors: 400 ``M_NOT_JSON``/``M_BAD_JSON``/``M_MISSING_PARAM``/
``M_INVALID_PARAM`` for malformed input (a code that is not six ASCII digits, a password
that is not a string of Unicode text, a user ID no account can have), 404 ``M_NOT_FOUND``
for unknown users or paths. Refused input is counted in
``hearth_login_malformed_input_total{endpoint="api"}``.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import Any
from urllib.parse import unquote

from synapse.api.errors import Codes, NotFoundError, SynapseError
from synapse.module_api import ModuleApi, parse_json_object_from_request

from hearth.synapse_compat.web import DirectServeJsonResource, SynapseRequest
from hearth.synapse_modules.login_security import totp
from hearth.synapse_modules.login_security.addresses import IPNetwork, unlock_key
from hearth.synapse_modules.login_security.credentials import EnrolmentError, LoginGuard
from hearth.synapse_modules.login_security.decisions import Refusal
from hearth.synapse_modules.login_security.gate import client_address
from hearth.synapse_modules.login_security.inputs import password_problem, user_name_problem
from hearth.synapse_modules.login_security.metrics import MALFORMED_INPUT

logger = logging.getLogger(__name__)

MFA_PREFIX = "/_synapse/client/hearth/v1/mfa"
ADMIN_PREFIX = "/_synapse/client/hearth/v1/admin/login_security"
ENROLMENT_STATUS = {"already_enrolled": 403, "no_pending": 400, "wrong_code": 400}
ENROLMENT_ERRCODE = {"already_enrolled": Codes.FORBIDDEN, "no_pending": Codes.INVALID_PARAM,
                     "wrong_code": Codes.INVALID_PARAM}


def refusal_error(refusal: Refusal) -> SynapseError:
    """A Refusal as the SynapseError that carries it to the client."""
    headers = None
    retry = refusal.fields.get("retry_after_ms")
    if refusal.status == 429 and isinstance(retry, int):
        headers = {"Retry-After": str(max(1, -(-retry // 1000)))}
    return SynapseError(refusal.status, refusal.message, refusal.errcode,
                        additional_fields=dict(refusal.fields), headers=headers)


def enrolment_error(error: EnrolmentError) -> SynapseError:
    return SynapseError(ENROLMENT_STATUS.get(error.reason, 400), error.message,
                        ENROLMENT_ERRCODE.get(error.reason, Codes.INVALID_PARAM))


def path_parts(request: SynapseRequest, prefix: str) -> list[str]:
    raw = (request.path or b"").decode("utf-8", "replace")
    rest = raw[len(prefix):] if raw.startswith(prefix) else ""
    return [unquote(p) for p in rest.split("/") if p]


def string_field(body: dict[str, Any], name: str, what: str) -> str:
    """A required string field, or 400 naming it and what it should hold."""
    if name not in body:
        raise SynapseError(400, f"Missing '{name}': expected {what}", Codes.MISSING_PARAM)
    value = body[name]
    if not isinstance(value, str):
        raise SynapseError(400, f"Invalid '{name}': got {type(value).__name__}, expected {what}",
                           Codes.INVALID_PARAM)
    return value


def malformed(server: str, field: str, message: str) -> SynapseError:
    """A 400 M_INVALID_PARAM for a malformed field, counted by field."""
    MALFORMED_INPUT.labels(server, "api", field).inc()
    return SynapseError(400, message, Codes.INVALID_PARAM)


def counted_string_field(body: dict[str, Any], name: str, what: str, server: str) -> str:
    """``string_field``, counting a value of the wrong type as malformed input."""
    try:
        return string_field(body, name, what)
    except SynapseError as error:
        if error.errcode == Codes.INVALID_PARAM:
            MALFORMED_INPUT.labels(server, "api", name).inc()
        raise


def totp_code_field(body: dict[str, Any], server: str) -> str:
    """Six ASCII digits (spaces forgiven): other digits, signs and lengths are refused."""
    raw = counted_string_field(body, "code", "the 6-digit code from the authenticator app",
                               server)
    code = totp.normalize_code(raw)
    if code is None:
        raise malformed(server, "code", "Invalid 'code': expected the 6 digits the "
                        "authenticator app shows, such as 123456 (digits 0-9 only)")
    return code


def password_field(body: dict[str, Any], server: str) -> str:
    """The password as text that can be checked (no lone surrogates)."""
    password = counted_string_field(body, "password", "your account password", server)
    problem = password_problem(password)
    if problem is not None:
        raise malformed(server, "password", problem)
    return password


class _JsonResource(DirectServeJsonResource):
    """Routes the paths below one prefix by hand (Synapse's router is not public API)."""

    isLeaf = True

    def __init__(self, api: ModuleApi, guard: LoginGuard, prefix: str,
                 trusted_proxies: Sequence[IPNetwork],
                 ready: Callable[[], Awaitable[None]]) -> None:
        super().__init__()
        self._api = api
        self._guard = guard
        self._prefix = prefix
        self._trusted = tuple(trusted_proxies)
        self._ready = ready

    async def _user(self, request: SynapseRequest) -> str:
        requester = await self._api.get_user_by_req(request)
        await self._ready()
        return requester.user.to_string()


class MfaApiResource(_JsonResource):
    """A logged-in user's own second factor."""

    async def _async_render_GET(self, request: SynapseRequest) -> tuple[int, Any]:
        user_id = await self._user(request)
        if path_parts(request, self._prefix) == ["status"]:
            return 200, await self._guard.status(user_id)
        raise NotFoundError("Unknown MFA API path; GET .../mfa/status")

    async def _async_render_POST(self, request: SynapseRequest) -> tuple[int, Any]:
        user_id = await self._user(request)
        parts = path_parts(request, self._prefix)
        if parts == ["totp", "begin"]:
            parse_json_object_from_request(request, allow_empty_body=True)
            try:
                enrolment = await self._guard.begin_enrolment(user_id)
            except EnrolmentError as error:
                raise enrolment_error(error) from None
            return 200, {"secret": enrolment.secret, "otpauth_uri": enrolment.uri,
                         "algorithm": "SHA1", "digits": totp.DIGITS, "period": totp.PERIOD_S}
        if parts == ["totp", "confirm"]:
            body = parse_json_object_from_request(request)
            code = totp_code_field(body, self._api.server_name)
            password = password_field(body, self._api.server_name)
            refusal = await self._guard.reauthenticate(
                user_id, password, client_address(request, self._trusted))
            if refusal is not None:
                raise refusal_error(refusal)
            try:
                codes = await self._guard.confirm_enrolment(user_id, code, via="api")
            except EnrolmentError as error:
                raise enrolment_error(error) from None
            return 200, {"recovery_codes": codes,
                         "note": "Store these recovery codes now: they are not shown again. "
                                 "Each logs you in once without the authenticator."}
        raise NotFoundError("Unknown MFA API path; POST .../mfa/totp/begin or "
                            ".../mfa/totp/confirm")


class AdminApiResource(_JsonResource):
    """Unlock accounts and addresses, reset second factors: server admins only."""

    async def _admin(self, request: SynapseRequest) -> str:
        user_id = await self._user(request)
        if not await self._api.is_user_admin(user_id):
            raise SynapseError(403, "Only server administrators may use the login security "
                               "admin API", Codes.FORBIDDEN)
        return user_id

    async def _target(self, raw: str) -> str:
        problem = user_name_problem(raw)
        if problem is not None:
            raise malformed(self._api.server_name, "user_id", f"Invalid user ID: {problem}")
        if not (raw.startswith("@") and ":" in raw):
            raise SynapseError(400, f"Invalid user ID {raw!r}: expected @localpart:server",
                               Codes.INVALID_PARAM)
        if not self._api.is_mine(raw):
            raise SynapseError(400, f"{raw} is not a user of this server", Codes.INVALID_PARAM)
        canonical = await self._api.check_user_exists(raw)
        if canonical is None:
            raise NotFoundError(f"No user {raw} on this server")
        return canonical

    async def _async_render_GET(self, request: SynapseRequest) -> tuple[int, Any]:
        await self._admin(request)
        parts = path_parts(request, self._prefix)
        if len(parts) == 2 and parts[0] == "users":
            return 200, await self._guard.admin_status(await self._target(parts[1]))
        raise NotFoundError("Unknown login security admin path; GET .../users/<user_id>")

    async def _async_render_POST(self, request: SynapseRequest) -> tuple[int, Any]:
        admin = await self._admin(request)
        parts = path_parts(request, self._prefix)
        parse_json_object_from_request(request, allow_empty_body=True)
        if len(parts) == 3 and parts[0] == "users" and parts[2] == "unlock":
            result = await self._guard.unlock_account(await self._target(parts[1]))
            logger.info("login_security: %s unlocked %s", admin, parts[1])
            return 200, result
        if len(parts) == 4 and parts[0] == "users" and parts[2:] == ["mfa", "reset"]:
            result = await self._guard.reset_mfa(await self._target(parts[1]))
            logger.info("login_security: %s reset the second factor of %s", admin, parts[1])
            return 200, result
        if len(parts) == 3 and parts[0] == "addresses" and parts[2] == "unlock":
            key = unlock_key(parts[1])
            if key is None:
                raise malformed(self._api.server_name, "address",
                                f"Invalid address {parts[1][:100]!r}: expected an IP address "
                                "such as 203.0.113.7, or an IPv6 /64 such as "
                                "2001:db8:1:2::%2F64")
            return 200, await self._guard.unlock_address(key)
        raise NotFoundError("Unknown login security admin path; POST .../users/<user_id>/unlock, "
                            ".../users/<user_id>/mfa/reset or .../addresses/<address>/unlock")
