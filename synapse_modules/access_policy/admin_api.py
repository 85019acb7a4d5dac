"""Admin HTTP API for role assignments, under ``/_synapse/client/hearth/v1/admin/roles``.

    GET    .../roles                          the roles the policy defines
    GET    .../roles/assignments?role=&from=&limit=   stored assignments, by user ID
    PUT    .../roles/assignments/<user_id>    {"role": "moderator"}: assign
    DELETE .../roles/assignments/<user_id>    revoke (the user falls back to the default)
    GET    .../roles/users/<user_id>          the user's effective role and permissions

Only server admins may call it (401 without a valid token, 403 otherwise). Errors are Matrix
errors: ``{"errcode": ..., "error": ...}`` with 400 for malformed input (read strictly by
admin_input.py, each refusal counted by reason), 404 for unknown users or assignments.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from synapse.api.errors import Codes, NotFoundError, SynapseError
from synapse.module_api import ModuleApi

from hearth.synapse_compat.web import DirectServeJsonResource, SynapseRequest
from hearth.synapse_modules.access_policy import admin_input
from hearth.synapse_modules.access_policy.admin_input import REASON_BODY, REASON_QUERY, InputError
from hearth.synapse_modules.access_policy.metrics import INVALID_REQUESTS, ROLE_CHANGES
from hearth.synapse_modules.access_policy.policy import Policy
from hearth.synapse_modules.access_policy.resolver import RoleResolver
from hearth.synapse_modules.access_policy.store import SOURCE_ADMIN, Assignment, PolicyStore

PREFIX = "/_synapse/client/hearth/v1/admin/roles"
DEFAULT_LIMIT = 100
MAX_LIMIT = 1000


def _bad(message: str, errcode: str = Codes.INVALID_PARAM) -> InputError:
    return InputError(REASON_BODY, message, errcode)


class RolesAdminResource(DirectServeJsonResource):
    """Routes the paths below ``PREFIX`` by hand (Synapse's router is not public API)."""

    isLeaf = True

    def __init__(
        self,
        api: ModuleApi,
        policy: Policy,
        store: PolicyStore,
        resolver: RoleResolver,
        after_change: Callable[[int], None],
        server_name: str,
    ) -> None:
        super().__init__()
        self._api = api
        self._policy = policy
        self._store = store
        self._resolver = resolver
        self._after_change = after_change
        self._server_name = server_name

    # --- routing ---------------------------------------------------------------------------

    async def _answer(self, work: Awaitable[tuple[int, Any]]) -> tuple[int, Any]:
        """Bad input becomes a 400 Matrix error, counted by reason."""
        try:
            return await work
        except InputError as error:
            INVALID_REQUESTS.labels(self._server_name, error.reason).inc()
            raise SynapseError(400, error.message, error.errcode) from None

    async def _async_render_GET(self, request: SynapseRequest) -> tuple[int, Any]:
        return await self._answer(self._get(request))

    async def _async_render_PUT(self, request: SynapseRequest) -> tuple[int, Any]:
        return await self._answer(self._put(request))

    async def _async_render_DELETE(self, request: SynapseRequest) -> tuple[int, Any]:
        return await self._answer(self._delete(request))

    async def _get(self, request: SynapseRequest) -> tuple[int, Any]:
        await self._require_admin(request)
        parts = _parts(request)
        if not parts:
            return 200, self._roles()
        if parts == ["assignments"]:
            return 200, await self._list(request)
        if len(parts) == 2 and parts[0] == "users":
            return 200, await self._effective(parts[1])
        if len(parts) == 2 and parts[0] == "assignments":
            user_id = await self._local_user(parts[1])
            assignment = await self._store.get_assignment(user_id)
            if assignment is None:
                raise NotFoundError(f"{user_id} has no assigned role (the default applies)")
            return 200, assignment.as_dict()
        raise NotFoundError("Unknown roles API path")

    async def _put(self, request: SynapseRequest) -> tuple[int, Any]:
        requester = await self._require_admin(request)
        parts = _parts(request)
        if len(parts) != 2 or parts[0] != "assignments":
            raise NotFoundError(
                "Unknown roles API path; use PUT .../roles/assignments/<user_id>")
        user_id = await self._local_user(parts[1], must_exist=True)
        role = self._role_from_body(request)
        previous = await self._store.get_assignment(user_id)
        now = self._api.get_current_time_msec()
        assignment = Assignment(user_id=user_id, role=role, source=SOURCE_ADMIN,
                                assigned_by=requester, assigned_ts=now)
        _, version = await self._store.assign(assignment)
        self._after_change(version)
        ROLE_CHANGES.labels(self._server_name, "assign").inc()
        return 200, {**assignment.as_dict(),
                     "previous_role": previous.role if previous else None}

    async def _delete(self, request: SynapseRequest) -> tuple[int, Any]:
        await self._require_admin(request)
        parts = _parts(request)
        if len(parts) != 2 or parts[0] != "assignments":
            raise NotFoundError(
                "Unknown roles API path; use DELETE .../roles/assignments/<user_id>")
        user_id = await self._local_user(parts[1])
        revoked, version = await self._store.revoke(user_id)
        if revoked is None:
            raise NotFoundError(f"{user_id} has no assigned role to revoke")
        self._after_change(version)
        ROLE_CHANGES.labels(self._server_name, "revoke").inc()
        return 200, {"user_id": user_id, "revoked_role": revoked.role,
                     "role": self._policy.default_role}

    # --- handlers --------------------------------------------------------------------------

    def _roles(self) -> dict[str, Any]:
        return {
            "default_role": self._policy.default_role,
            "guest_role": self._policy.guest_role,
            "roles": {name: self._policy.role(name).as_dict() for name in self._policy.role_names},
        }

    async def _list(self, request: SynapseRequest) -> dict[str, Any]:
        role = admin_input.single_query(request.args, "role")
        if role is not None:
            admin_input.role_name(role, "role", self._policy.role_names, REASON_QUERY)
        after = admin_input.single_query(request.args, "from")
        if after is not None:
            admin_input.local_user_id(after, "from", self._server_name)
        limit = admin_input.page_limit(admin_input.single_query(request.args, "limit"),
                                       DEFAULT_LIMIT, MAX_LIMIT)
        rows = await self._store.list_assignments(role, after, limit + 1)
        page = rows[:limit]
        return {
            "assignments": [a.as_dict() for a in page],
            "next_from": page[-1].user_id if len(rows) > limit else None,
        }

    async def _effective(self, raw_user_id: str) -> dict[str, Any]:
        user_id = await self._local_user(raw_user_id, must_exist=True)
        resolved = await self._resolver.resolve(user_id)
        return {
            "user_id": user_id,
            "source": resolved.source,
            "assignment": resolved.assignment.as_dict() if resolved.assignment else None,
            # Synapse lets server admins bypass room-level spam checks whatever their role.
            "server_admin": await self._api.is_user_admin(user_id),
            "policy_version": self._resolver.version,
            **resolved.role.as_dict(),
        }

    # --- validation ------------------------------------------------------------------------

    async def _require_admin(self, request: SynapseRequest) -> str:
        requester = await self._api.get_user_by_req(request)
        user_id = requester.user.to_string()
        if not await self._api.is_user_admin(user_id):
            raise SynapseError(403, "Only server admins may manage roles", Codes.FORBIDDEN)
        return user_id

    async def _local_user(self, raw: str, must_exist: bool = False) -> str:
        """The path's user ID, canonical and local (400 otherwise), existing if asked (404)."""
        user_id = admin_input.local_user_id(raw, "user_id", self._server_name)
        if must_exist and await self._api.check_user_exists(user_id) != user_id:
            raise NotFoundError(f"No such user {user_id}")
        return user_id

    def _role_from_body(self, request: SynapseRequest) -> str:
        example = '{"role": "moderator"}'
        raw = request.content.read() if request.content is not None else b""
        body = admin_input.json_object(raw, example)
        unknown = sorted(set(body) - {"role"})
        if unknown:
            raise _bad(f"Unknown key {admin_input.shown(unknown[0])} in the request body: "
                       "expected only 'role'", Codes.BAD_JSON)
        if "role" not in body:
            raise _bad(f"Missing 'role' in the request body: expected {example}", Codes.BAD_JSON)
        return admin_input.role_name(body["role"], "role", self._policy.role_names, REASON_BODY)


def _parts(request: SynapseRequest) -> list[str]:
    """Path segments below ``PREFIX`` (Twisted has already percent-decoded them).

    Bytes that are not UTF-8 become U+FFFD, which no user ID or route contains."""
    return [p.decode("utf-8", errors="replace") for p in (request.postpath or []) if p]
