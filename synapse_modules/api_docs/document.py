"""The OpenAPI 3.1 description of every HTTP endpoint Hearth's modules add to Synapse.

One source of truth: the server serves it (``module.py``), ``docs/api.md`` is rendered from it
(``markdown.py``), and the tests validate it, check that every path our modules register is in
it, and fuzz the running server from it. Each section belongs to the module that serves it, so
a server with a module switched off does not describe endpoints it does not have.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable
from typing import Any

OPENAPI_PATH = "/_synapse/client/hearth/v1/openapi.json"
ROLES = "/_synapse/client/hearth/v1/admin/roles"
MFA = "/_synapse/client/hearth/v1/mfa"
LOGIN_ADMIN = "/_synapse/client/hearth/v1/admin/login_security"
AI_ACCESS = "/_synapse/client/hearth/v1/ai/access"
MFA_PAGE = "/_synapse/client/hearth/mfa"
MEDIA = "/_synapse/client/hearth/v1/media"

Json = dict[str, Any]

MATRIX_ERROR: Json = {
    "type": "object",
    "description": "A Matrix error. Some refusals add fields (e.g. `retry_after_ms`).",
    "required": ["errcode", "error"],
    "properties": {
        "errcode": {"type": "string", "examples": ["M_INVALID_PARAM"]},
        "error": {"type": "string", "description": "What went wrong, for a person to read."},
        "retry_after_ms": {"type": "integer", "minimum": 0},
    },
}
ERRORS = {
    400: "Malformed request: `M_NOT_JSON`, `M_BAD_JSON`, `M_MISSING_PARAM` or `M_INVALID_PARAM`.",
    401: "No access token, or one the server does not know (`M_MISSING_TOKEN`, "
         "`M_UNKNOWN_TOKEN`).",
    403: "The requester may not do this (`M_FORBIDDEN`).",
    404: "No such user, assignment or path (`M_NOT_FOUND`, `M_UNRECOGNIZED`).",
    429: "Too many attempts (`M_LIMIT_EXCEEDED`); `retry_after_ms` says when to retry.",
    503: "The module is starting or cannot read its data; retry shortly.",
}
USER_ID: Json = {
    "name": "user_id", "in": "path", "required": True,
    "description": "A local Matrix user ID, percent-encoded.",
    "schema": {"type": "string", "examples": ["@alice:example.org"]},
}
ADDRESS: Json = {
    "name": "address", "in": "path", "required": True,
    "description": "An IPv4 or IPv6 address (no port).",
    "schema": {"type": "string", "examples": ["203.0.113.7"]},
}


def _ref(name: str) -> Json:
    return {"$ref": f"#/components/schemas/{name}"}


def _json(schema: Json) -> Json:
    return {"application/json": {"schema": schema}}


def _operation(summary: str, ok: str, ok_schema: Json, errors: Iterable[int], *,
               tag: str, description: str = "", body: Json | None = None,
               body_required: bool = True, parameters: Iterable[Json] = (),
               authenticated: bool = True) -> Json:
    """One operation: its 200 answer and the Matrix errors it may give."""
    operation: Json = {"tags": [tag], "summary": summary}
    if description:
        operation["description"] = description
    if parameters:
        operation["parameters"] = list(parameters)
    if body is not None:
        operation["requestBody"] = {"required": body_required, "content": _json(body)}
    if not authenticated:
        operation["security"] = []
    responses: Json = {"200": {"description": ok, "content": _json(ok_schema)}}
    for status in sorted({*errors, *((401,) if authenticated else ())}):
        responses[str(status)] = {"description": ERRORS[status],
                                  "content": _json(_ref("MatrixError"))}
    operation["responses"] = responses
    return operation


def _object(properties: Json, required: Iterable[str] = (), closed: bool = False) -> Json:
    schema: Json = {"type": "object", "properties": properties}
    if required:
        schema["required"] = list(required)
    if closed:
        schema["additionalProperties"] = False
    return schema


NULLABLE_STRING: Json = {"type": ["string", "null"]}
NULLABLE_INT: Json = {"type": ["integer", "null"]}
EMPTY_BODY: Json = {"type": "object",
                    "description": "An empty JSON object; the body may be left out."}


def _roles_paths() -> Json:
    tag = "Roles (admin)"
    assignment = _ref("Assignment")
    return {
        ROLES: {"get": _operation(
            "The roles the policy defines", "The default and guest roles, and every role.",
            _object({"default_role": {"type": "string"}, "guest_role": NULLABLE_STRING,
                     "roles": {"type": "object", "additionalProperties": _ref("Role")}},
                    ["default_role", "roles"]),
            (403,), tag=tag)},
        f"{ROLES}/assignments": {"get": _operation(
            "Stored role assignments, by user ID",
            "One page of assignments; pass `next_from` as `from` for the next.",
            _object({"assignments": {"type": "array", "items": assignment},
                     "next_from": NULLABLE_STRING}, ["assignments", "next_from"]),
            (400, 403), tag=tag, parameters=[
                {"name": "role", "in": "query", "required": False,
                 "description": "Only assignments of this role.", "schema": {"type": "string"}},
                {"name": "from", "in": "query", "required": False,
                 "description": "Start after this user ID (`next_from` of the last page).",
                 "schema": {"type": "string"}},
                {"name": "limit", "in": "query", "required": False,
                 "description": "Page size, 1 to 1000 (default 100).",
                 "schema": {"type": "integer", "minimum": 1, "maximum": 1000}},
            ])},
        f"{ROLES}/assignments/{{user_id}}": {
            "parameters": [USER_ID],
            "get": _operation("One user's stored assignment", "The assignment.", assignment,
                              (400, 403, 404), tag=tag),
            "put": _operation(
                "Assign a role", "The new assignment and the role it replaced.",
                {"allOf": [assignment, _object({"previous_role": NULLABLE_STRING})]},
                (400, 403, 404), tag=tag,
                body=_object({"role": {"type": "string", "examples": ["moderator"]}},
                             ["role"], closed=True)),
            "delete": _operation(
                "Revoke an assignment (the default role applies again)",
                "The revoked role and the role that now applies.",
                _object({"user_id": {"type": "string"}, "revoked_role": {"type": "string"},
                         "role": {"type": "string"}}, ["user_id", "revoked_role", "role"]),
                (400, 403, 404), tag=tag),
        },
        f"{ROLES}/users/{{user_id}}": {
            "parameters": [USER_ID],
            "get": _operation(
                "A user's effective role and permissions",
                "The role in force, where it comes from, and what it allows.",
                {"allOf": [_ref("Role"), _object({
                    "user_id": {"type": "string"}, "source": {"type": "string"},
                    "assignment": {"oneOf": [assignment, {"type": "null"}]},
                    "server_admin": {"type": "boolean"},
                    "policy_version": {"type": "integer"}},
                    ["user_id", "source", "server_admin"])]},
                (400, 403, 404), tag=tag)},
    }


def _ai_access_paths() -> Json:
    tag = "AI access (bot)"
    limit = {"oneOf": [_object({"per_second": {"type": "number"}, "burst": {"type": "integer"}}),
                       {"type": "null"}]}
    return {
        f"{AI_ACCESS}/{{user_id}}": {
            "parameters": [USER_ID],
            "get": _operation(
                "A user's AI permissions, for the AI bot",
                "The user's role, what it may do with the AI, and its AI request rate.",
                _object({"user_id": {"type": "string"}, "role": {"type": "string"},
                         "ai": {"type": "object"}, "ai_requests": limit,
                         "policy_version": NULLABLE_INT},
                        ["user_id", "role", "ai", "ai_requests"]),
                (400, 403, 404, 503), tag=tag,
                description="Only accounts of Synapse's user type `bot` may call it; they "
                            "learn the AI part of the policy and nothing else.")},
    }


def _mfa_paths() -> Json:
    tag = "Second factor (user)"
    return {
        f"{MFA}/status": {"get": _operation(
            "The requester's own second factor", "Whether TOTP is set up, and what is required.",
            _ref("MfaStatus"), (), tag=tag)},
        f"{MFA}/totp/begin": {"post": _operation(
            "Start setting up TOTP: a new pending secret",
            "The secret, as text and as an otpauth URI for a QR code.",
            _object({"secret": {"type": "string"}, "otpauth_uri": {"type": "string"},
                     "algorithm": {"type": "string"}, "digits": {"type": "integer"},
                     "period": {"type": "integer"}}, ["secret", "otpauth_uri"]),
            (400, 403), tag=tag, body=EMPTY_BODY, body_required=False)},
        f"{MFA}/totp/confirm": {"post": _operation(
            "Finish setting up TOTP with a code and the account password",
            "Recovery codes, shown once.",
            _object({"recovery_codes": {"type": "array", "items": {"type": "string"}},
                     "note": {"type": "string"}}, ["recovery_codes"]),
            (400, 403, 429), tag=tag,
            description="The password is checked like a login: failures count towards the "
                        "account's lockout.",
            body=_object({"code": {"type": "string", "examples": ["123456"]},
                          "password": {"type": "string"}}, ["code", "password"]))},
    }


def _login_admin_paths() -> Json:
    tag = "Login security (admin)"
    user = _object({"user_id": {"type": "string"}})
    return {
        f"{LOGIN_ADMIN}/users/{{user_id}}": {
            "parameters": [USER_ID],
            "get": _operation(
                "A user's failed logins, lock and second factor",
                "The user's login security state.",
                {"allOf": [_ref("MfaStatus"), _object({
                    "failed_attempts": {"type": "integer"}, "locked_until_ms": NULLABLE_INT})]},
                (400, 403, 404), tag=tag)},
        f"{LOGIN_ADMIN}/users/{{user_id}}/unlock": {
            "parameters": [USER_ID],
            "post": _operation("End a lockout and forget the failures", "What was cleared.",
                               user, (400, 403, 404), tag=tag, body=EMPTY_BODY,
                               body_required=False)},
        f"{LOGIN_ADMIN}/users/{{user_id}}/mfa/reset": {
            "parameters": [USER_ID],
            "post": _operation(
                "Remove TOTP and recovery codes (the enrolment grace restarts)",
                "Whether a second factor was removed.", user, (400, 403, 404), tag=tag,
                body=EMPTY_BODY, body_required=False)},
        f"{LOGIN_ADMIN}/addresses/{{address}}/unlock": {
            "parameters": [ADDRESS],
            "post": _operation(
                "End an address block", "What was cleared.",
                _object({"address": {"type": "string"}}), (400, 403), tag=tag,
                body=EMPTY_BODY, body_required=False)},
    }


def _mfa_page_paths() -> Json:
    tag = "Second factor (page)"
    html = {"text/html": {"schema": {"type": "string"}}}
    form = _object({
        "action": {"type": "string", "enum": ["sign_in", "confirm"]},
        "csrf_token": {"type": "string"}, "user": {"type": "string"},
        "password": {"type": "string"}, "code": {"type": "string"},
        "ticket": {"type": "string"}}, ["action", "csrf_token"])
    pages = {"description": "An HTML page; refusals are pages too (400, 403, 409, 429).",
             "content": html}
    return {MFA_PAGE: {
        "get": {"tags": [tag], "summary": "The enrolment page: the sign-in form",
                "security": [], "description": "Sets the session cookie the CSRF token is "
                "bound to.", "responses": {"200": {"description": "The sign-in form.",
                                                   "content": html}}},
        "post": {"tags": [tag], "summary": "Sign in (`action=sign_in`) or confirm the code "
                 "(`action=confirm`)", "security": [],
                 "description": "Needs the session cookie and the form's CSRF token; the "
                 "sign-in counts failures like a login.",
                 "requestBody": {"required": True, "content": {
                     "application/x-www-form-urlencoded": {"schema": form}}},
                 "responses": {"200": {"description": "The next step.", "content": html},
                               "4XX": pages}},
    }}


def _media_paths() -> Json:
    tag, admin_tag = "Media (user)", "Media (admin)"
    server = {"name": "server_name", "in": "path", "required": True,
              "description": "The server part of the mxc:// URI (this server).",
              "schema": {"type": "string", "examples": ["example.org"]}}
    media_id = {"name": "media_id", "in": "path", "required": True,
                "description": "The media ID part of the mxc:// URI.",
                "schema": {"type": "string", "examples": ["aBcDeFgHiJkLmNoP"]}}
    query = [{"name": "user_id", "in": "query", "required": False,
              "description": "A local user: their stored files and bytes.",
              "schema": {"type": "string"}},
             {"name": "room_id", "in": "query", "required": False,
              "description": "A room: the local files its events refer to.",
              "schema": {"type": "string"}}]
    usage = _object({"user_id": {"type": "string"}, "room_id": {"type": "string"},
                     "files": {"type": "integer"}, "bytes": {"type": "integer"}},
                    ["files", "bytes"])
    refused = _object({"sha256": {"type": "string"}, "user_id": {"type": "string"},
                       "reason": {"type": "string"}, "detail": {"type": "string"},
                       "size": {"type": "integer"}, "refused_ts": {"type": "integer"}},
                      ["sha256", "user_id", "reason", "refused_ts"])
    return {
        f"{MEDIA}/info/{{server_name}}/{{media_id}}": {
            "parameters": [server, media_id],
            "get": _operation(
                "What a stored file is", "Type, size, dimensions, duration and blurhash.",
                _ref("MediaInfo"), (404, 503), tag=tag,
                description="The type is the one read from the content at upload. "
                            "Quarantined media is unknown (404).")},
        f"{MEDIA}/admin/usage": {"get": _operation(
            "Media stored by a user, or referred to by a room",
            "Files and bytes.", usage, (400, 403, 503), tag=admin_tag, parameters=query,
            description="Give exactly one of `user_id` and `room_id`.")},
        f"{MEDIA}/admin/stats": {"get": _operation(
            "All local media and its distinct contents",
            "Files, bytes and distinct SHA-256 contents (what de-duplication stores once).",
            _object({"files": {"type": "integer"}, "bytes": {"type": "integer"},
                     "distinct_contents": {"type": "integer"},
                     "object_storage": _object({
                         "files": {"type": "integer"}, "logical_bytes": {"type": "integer"},
                         "objects": {"type": "integer"}, "stored_bytes": {"type": "integer"}})},
                    ["files", "bytes", "distinct_contents"]), (403, 503), tag=admin_tag,
            description="With object storage, `object_storage` says what the bucket holds: "
                        "`stored_bytes` against `logical_bytes` is the de-duplication.")},
        f"{MEDIA}/admin/refused": {"get": _operation(
            "Uploads refused as malware, newest first", "One page of refusals.",
            _object({"refused": {"type": "array", "items": refused},
                     "next_before_ts": {"type": "integer"}}, ["refused"]),
            (400, 403, 503), tag=admin_tag,
            parameters=[{"name": "before_ts", "in": "query", "required": False,
                         "schema": {"type": "integer", "minimum": 0}},
                        {"name": "limit", "in": "query", "required": False,
                         "schema": {"type": "integer", "minimum": 1, "maximum": 1000}}])},
    }


def _document_path() -> Json:
    return {OPENAPI_PATH: {"get": {
        "tags": ["Reference"], "summary": "This document", "security": [],
        "responses": {"200": {"description": "The OpenAPI description of the endpoints this "
                              "server's Hearth modules serve.",
                              "content": _json({"type": "object"})}}}}}


TAGS = ("Roles (admin)", "AI access (bot)", "Second factor (user)", "Login security (admin)",
        "Second factor (page)", "Media (user)", "Media (admin)", "Reference")
SECTIONS = {
    "access_policy": (_roles_paths, _ai_access_paths),
    "login_security": (_mfa_paths, _login_admin_paths, _mfa_page_paths),
    "media_repo": (_media_paths,),
}

COMPONENTS: Json = {
    "securitySchemes": {"accessToken": {
        "type": "http", "scheme": "bearer",
        "description": "A Matrix access token; the admin endpoints need a server admin's."}},
    "schemas": {
        "MatrixError": MATRIX_ERROR,
        "Assignment": _object({
            "user_id": {"type": "string"}, "role": {"type": "string"},
            "source": {"type": "string", "description": "`admin` or `registration`"},
            "assigned_by": NULLABLE_STRING, "assigned_ts": {"type": "integer"}},
            ["user_id", "role", "source", "assigned_ts"]),
        "Role": _object({
            "role": {"type": "string"}, "description": {"type": "string"},
            "permissions": {"type": "object"}, "rate_limits": {"type": "object"}},
            ["role", "permissions", "rate_limits"]),
        "MediaInfo": _object({
            "content_uri": {"type": "string"}, "mimetype": {"type": "string"},
            "size": {"type": "integer"}, "kind": {"type": "string"},
            "width": NULLABLE_INT, "height": NULLABLE_INT, "duration_ms": NULLABLE_INT,
            "animated": {"type": "boolean"}, "blurhash": NULLABLE_STRING,
            "has_thumbnail": {"type": "boolean"}},
            ["content_uri", "mimetype", "size"]),
        "MfaStatus": _object({
            "user_id": {"type": "string"}, "role": {"type": "string"},
            "totp_enabled": {"type": "boolean"}, "totp_pending": {"type": "boolean"},
            "recovery_codes_left": NULLABLE_INT, "required": {"type": "boolean"},
            "enrol_before_ms": NULLABLE_INT, "enrolment_url": {"type": "string"}},
            ["user_id", "totp_enabled", "required"]),
    },
}


def build_document(modules: Iterable[str] = tuple(SECTIONS), version: str = "1") -> Json:
    """The document for a server running ``modules`` (those with HTTP endpoints)."""
    paths = _document_path()
    for module in modules:
        for section in SECTIONS[module]:
            paths.update(section())
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Hearth homeserver extensions",
            "version": version,
            "description": "The HTTP endpoints Hearth's Synapse modules add, next to Synapse's "
                           "own client-server and admin APIs. Errors are Matrix errors "
                           "(`errcode` and `error`). Paths carry their version "
                           "(`/_synapse/client/hearth/v1/...`).",
        },
        "servers": [{"url": "/"}],
        "security": [{"accessToken": []}],
        "tags": [{"name": tag} for tag in TAGS if any(
            tag in operation.get("tags", ()) for item in paths.values()
            for operation in item.values() if isinstance(operation, dict))],
        "paths": paths,
        "components": copy.deepcopy(COMPONENTS),
    }
