"""Registration with Synapse and thin callbacks that enforce the access policy.

Each callback adapts Synapse's arguments to a pure decision (decisions.py) and turns a
refusal into a ``SynapseError``: Synapse does not catch exceptions raised by spam-checker or
media callbacks, so they reach the client as they are — 403 ``M_FORBIDDEN`` (or 413
``M_TOO_LARGE``) with our message naming the permission, and 429 ``M_LIMIT_EXCEEDED`` with
``retry_after_ms`` from a ``LimitExceededError``. Returning a ``Codes`` value instead would
make Synapse use its own generic message.

Every callback is guarded: a ``SynapseError`` passes through; anything unexpected is logged
and refused (fail closed) with a generic message.

Server admins bypass Synapse's room-level spam checks (create, invite, join, state events)
before any module is asked; the policy applies to everyone else, whatever their role.

Room creation is decided on the state the body will really create (room_creation.py), with
the same state-event decision as ``PUT /state``. Synapse's per-user rate-limit override
(``ratelimit_override``, read through synapse_compat) wins over the role's limits.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable
from typing import Any, Literal, TypeVar

from synapse.api.errors import Codes, LimitExceededError, SynapseError
from synapse.events import EventBase
from synapse.module_api import NOT_SPAM, ModuleApi, Requester
from synapse.types import JsonDict

from hearth.configuration.types import user_id as check_user_id
from hearth.synapse_compat import check_supported
from hearth.synapse_compat.context import make_deferred_yieldable
from hearth.synapse_compat.ratelimit_override import override_reader
from hearth.synapse_modules.access_policy import decisions, runtime
from hearth.synapse_modules.access_policy.admin_api import PREFIX, RolesAdminResource
from hearth.synapse_modules.access_policy.admin_input import REASON_USER_ID
from hearth.synapse_modules.access_policy.ai_access_api import AI_ACCESS_PREFIX, AiAccessResource
from hearth.synapse_modules.access_policy.config import AccessPolicyConfig
from hearth.synapse_modules.access_policy.decisions import Decision
from hearth.synapse_modules.access_policy.metrics import (
    INVALID_REQUESTS,
    RATE_LIMITED,
    REFUSALS,
    USERS_PER_ROLE,
)
from hearth.synapse_modules.access_policy.policy import RateLimit, Role
from hearth.synapse_modules.access_policy.ratelimit import RateLimiter, RedisBuckets, connect_redis
from hearth.synapse_modules.access_policy.resolver import RoleResolver
from hearth.synapse_modules.access_policy.room_creation import (
    REASON_ROOM_CONFIG,
    BadRoomConfig,
    RoomCreation,
    parse_room_creation,
)
from hearth.synapse_modules.access_policy.store import (
    LATEST,
    SOURCE_RULE,
    Assignment,
    PolicyStore,
)

logger = logging.getLogger(__name__)

T = TypeVar("T")
NotSpam = Literal["NOT_SPAM"]
READY_TIMEOUT_S = 15.0
LIMITER_WORDS = {"messages": "messages", "joins": "room joins", "invites": "invites",
                 "media_uploads": "media uploads"}


class AccessPolicyModule:
    """Roles from the policy file and the database, enforced at Synapse's extension points."""

    def __init__(self, config: AccessPolicyConfig, api: ModuleApi) -> None:
        self._config = config
        self._api = api
        self._policy = config.policy
        self._server_name = config.server_name
        self._store = PolicyStore(api.run_db_interaction)
        self._resolver = RoleResolver(self._policy, self._store.get_assignment, self._is_guest)
        redis = None
        if config.redis is not None:
            client = connect_redis(config.redis.host, config.redis.port, config.redis.dbid,
                                   config.redis.password)
            redis = RedisBuckets(client, make_deferred_yieldable)
        self._limiter = RateLimiter(redis)
        self._override_of = override_reader(api)
        self._background = api.should_run_background_tasks()
        self._ready = False

        api.register_spam_checker_callbacks(
            user_may_create_room=self.user_may_create_room,
            user_may_publish_room=self.user_may_publish_room,
            user_may_invite=self.user_may_invite,
            user_may_send_3pid_invite=self.user_may_send_3pid_invite,
            user_may_join_room=self.user_may_join_room,
            user_may_send_state_event=self.user_may_send_state_event,
            check_event_for_spam=self.check_event_for_spam,
        )
        api.register_media_repository_callbacks(
            is_user_allowed_to_upload_media_of_size=self.is_user_allowed_to_upload_media_of_size,
            get_media_config_for_user=self.get_media_config_for_user,
        )
        api.register_third_party_rules_callbacks(
            on_create_room=self.on_create_room,
            on_add_user_third_party_identifier=self.on_add_user_third_party_identifier,
        )
        api.register_web_resource(PREFIX, RolesAdminResource(
            api, self._policy, self._store, self._resolver, self._after_change,
            self._server_name,
        ))
        api.register_web_resource(AI_ACCESS_PREFIX, AiAccessResource(
            api, self._role, lambda: self._resolver.version, self._server_name))
        runtime.register(self._role)
        api.looping_background_call(self.poll_version, config.poll_interval_ms,
                                    desc="hearth_policy_poll_version", run_on_all_instances=True)
        if self._background:
            api.looping_background_call(self.refresh_users_per_role,
                                        config.users_gauge_interval_s * 1000,
                                        desc="hearth_policy_users_per_role")
        logger.info("access_policy loaded: roles=%s default=%s redis=%s background=%s",
                    ",".join(self._policy.role_names), self._policy.default_role,
                    config.redis is not None, self._background)

    @staticmethod
    def parse_config(config: dict[str, Any]) -> AccessPolicyConfig:
        """Called by Synapse before ``__init__``; a bad config or policy stops the start."""
        check_supported("access_policy")
        return AccessPolicyConfig.parse(config)

    # --- background: schema, cross-process invalidation, gauges ----------------------------

    async def poll_version(self) -> None:
        """Every process, every poll interval: drop cached roles when the version moved."""
        try:
            if not self._ready:
                if self._background:
                    before = await self._store.migrate()
                    if before != LATEST:
                        logger.info("access_policy: schema migrated from %d to %d",
                                    before, LATEST)
                elif await self._store.schema_version() < LATEST:
                    return  # the main process has not migrated yet
            version = await self._store.get_version()
        except Exception:
            logger.warning("access_policy: could not read the policy version", exc_info=True)
            return
        self._ready = True
        if self._resolver.observe_version(version) and self._background:
            await self.refresh_users_per_role()

    def _after_change(self, version: int) -> None:
        """A write in this process: drop the local cache now, others follow on their poll."""
        self._resolver.observe_version(version)
        if self._background:
            self._api.run_as_background_process("hearth_policy_users_per_role",
                                                self.refresh_users_per_role)

    async def refresh_users_per_role(self) -> None:
        if not self._ready:
            return
        counts = await self._store.count_users()
        per_role = decisions.users_per_role(self._policy, counts.assigned,
                                            counts.unassigned_members, counts.unassigned_guests)
        for role, count in per_role.items():
            USERS_PER_ROLE.labels(self._server_name, role).set(count)

    async def _wait_ready(self) -> None:
        waited = 0.0
        while not self._ready:
            if waited >= READY_TIMEOUT_S:
                raise SynapseError(503, "The access policy is starting; try again shortly",
                                   Codes.UNKNOWN)
            await self._api.sleep(0.05)
            waited += 0.05

    async def _role(self, user_id: str) -> Role:
        await self._wait_ready()
        return await self._resolver.role_of(user_id)

    async def _is_guest(self, user_id: str) -> bool:
        info = await self._api.get_userinfo_by_id(user_id)
        return bool(info is not None and info.is_guest)

    # --- enforcement helpers ---------------------------------------------------------------

    def _enforce(self, decision: Decision) -> None:
        if decision.allowed:
            return
        REFUSALS.labels(self._server_name, decision.permission).inc()
        raise SynapseError(decision.status, decision.message, decision.errcode)

    async def _rate_limit(self, limiter: str, user_id: str, role: Role) -> None:
        limit = role.rate_limits.get(limiter)
        if limit is None:
            return
        # Synapse's per-user override wins, as in Synapse: 0 lifts every limit, other values
        # replace the message limit (Synapse's rc_message).
        override = await self._override_of(user_id)
        if override is not None:
            if override.exempt:
                return
            if limiter == "messages":
                limit = RateLimit(per_second=override.messages_per_second,
                                  burst=max(1, override.burst_count))
        verdict = await self._limiter.check(limiter, user_id, limit)
        if verdict.allowed:
            return
        RATE_LIMITED.labels(self._server_name, limiter).inc()
        error = LimitExceededError(limiter_name=f"hearth_policy_{limiter}",
                                   retry_after_ms=verdict.retry_after_ms)
        error.msg = (f"Too many {LIMITER_WORDS.get(limiter, limiter)}: your role "
                     f"'{role.name}' allows {limit.burst} at once and {limit.per_second:g} "
                     f"per second (limit: {limiter}); retry in {verdict.retry_after_ms} ms")
        raise error

    async def _guard(self, what: str, work: Awaitable[T]) -> T:
        """Deliberate SynapseErrors pass; anything else is logged and refused (fail closed)."""
        try:
            return await work
        except SynapseError:
            raise
        except Exception:
            logger.exception("access_policy: %s failed; refusing", what)
            raise SynapseError(403, "Refused: the access policy could not be checked",
                               Codes.FORBIDDEN) from None

    # --- spam-checker callbacks ------------------------------------------------------------

    async def on_create_room(self, requester: Requester, config: JsonDict,
                             is_requester_admin: bool) -> None:
        """Before Synapse reads the body: one it would trip over is a 400, for everyone."""
        self._read_room_creation(config)

    def _read_room_creation(self, config: JsonDict) -> RoomCreation:
        try:
            return parse_room_creation(config)
        except BadRoomConfig as bad:
            INVALID_REQUESTS.labels(self._server_name, REASON_ROOM_CONFIG).inc()
            raise SynapseError(400, str(bad), Codes.BAD_JSON) from None

    async def user_may_create_room(self, user_id: str, room_config: JsonDict) -> NotSpam:
        return await self._guard("user_may_create_room", self._create_room(user_id, room_config))

    async def _create_room(self, user_id: str, room_config: JsonDict) -> NotSpam:
        creation = self._read_room_creation(room_config)
        role = await self._role(user_id)
        self._enforce(decisions.may_create_room_as(role, creation))
        return NOT_SPAM  # Synapse asks user_may_invite (and its limit) for each invitee

    async def user_may_publish_room(self, user_id: str, room_id: str) -> NotSpam:
        return await self._guard("user_may_publish_room", self._publish_room(user_id))

    async def _publish_room(self, user_id: str) -> NotSpam:
        self._enforce(decisions.may_publish_room(await self._role(user_id)))
        return NOT_SPAM

    async def user_may_invite(self, inviter: str, invitee: str, room_id: str) -> NotSpam:
        return await self._guard("user_may_invite", self._invite(inviter))

    async def _invite(self, inviter: str) -> NotSpam:
        role = await self._role(inviter)
        self._enforce(decisions.may_invite(role))
        await self._rate_limit("invites", inviter, role)
        return NOT_SPAM

    async def user_may_send_3pid_invite(self, inviter: str, medium: str, address: str,
                                        room_id: str) -> NotSpam:
        """An invitation by e-mail address is an invite too."""
        return await self._guard("user_may_send_3pid_invite", self._invite(inviter))

    async def user_may_join_room(self, user_id: str, room_id: str, is_invited: bool) -> NotSpam:
        return await self._guard("user_may_join_room",
                                 self._join_room(user_id, room_id, is_invited))

    async def _join_room(self, user_id: str, room_id: str, is_invited: bool) -> NotSpam:
        role = await self._role(user_id)
        is_remote = await self._is_remote_room(room_id)
        self._enforce(decisions.may_join_room(role, is_invited=is_invited, is_remote=is_remote))
        await self._rate_limit("joins", user_id, role)
        return NOT_SPAM

    async def _is_remote_room(self, room_id: str) -> bool:
        """A room is on another server when its creator is remote, or we do not know it.

        Room IDs of room version 12 carry no server name, so the create event decides.
        """
        state = await self._api.get_room_state(room_id, [("m.room.create", "")])
        create = state.get(("m.room.create", ""))
        if create is not None:
            return not self._api.is_mine(create.sender)
        if ":" in room_id:
            return not self._api.is_mine(room_id)
        return True

    async def user_may_send_state_event(self, user_id: str, room_id: str, event_type: str,
                                        state_key: str, content: JsonDict) -> NotSpam:
        return await self._guard("user_may_send_state_event",
                                 self._send_state_event(user_id, event_type, state_key, content))

    async def _send_state_event(self, user_id: str, event_type: str, state_key: str,
                                content: JsonDict) -> NotSpam:
        self._enforce(decisions.may_send_state_event(await self._role(user_id), event_type,
                                                     state_key, content))
        return NOT_SPAM

    async def check_event_for_spam(self, event: EventBase) -> NotSpam:
        """Per-role message rate limit, for non-state events sent by local users."""
        if event.is_state() or not self._api.is_mine(event.sender):
            return NOT_SPAM
        return await self._guard("check_event_for_spam", self._message(event.sender))

    async def _message(self, sender: str) -> NotSpam:
        await self._rate_limit("messages", sender, await self._role(sender))
        return NOT_SPAM

    # --- media callbacks -------------------------------------------------------------------

    async def is_user_allowed_to_upload_media_of_size(self, user_id: str, size: int) -> bool:
        return await self._guard("is_user_allowed_to_upload_media_of_size",
                                 self._upload(user_id, size))

    async def _upload(self, user_id: str, size: int) -> bool:
        role = await self._role(user_id)
        media = role.permissions.media
        used = await self._store.media_bytes(user_id) if media.upload and media.quota else 0
        self._enforce(decisions.may_upload_media(role, size=size, used=used))
        await self._rate_limit("media_uploads", user_id, role)
        return True

    async def get_media_config_for_user(self, user_id: str) -> JsonDict | None:
        """Tell clients the upload size that applies to them (not a security check)."""
        try:
            media = (await self._role(user_id)).permissions.media
        except Exception:
            logger.warning("access_policy: media config for %s failed", user_id, exc_info=True)
            return None
        if not media.upload:
            return {"m.upload.size": 0}
        if media.max_upload_size is None:
            return None
        server_max = self._config.server_max_upload_size
        size = media.max_upload_size if server_max is None else min(server_max,
                                                                     media.max_upload_size)
        return {"m.upload.size": size}

    # --- registration rules ----------------------------------------------------------------

    async def on_add_user_third_party_identifier(self, user_id: str, medium: str,
                                                 address: str) -> None:
        """A verified e-mail was added: a user with no role yet gets the one a rule picks."""
        if medium != "email" or not self._api.is_mine(user_id):
            return
        try:
            check_user_id(user_id)
        except ValueError:  # an ID outside the grammar could never be assigned through the API
            INVALID_REQUESTS.labels(self._server_name, REASON_USER_ID).inc()
            logger.warning("access_policy: no registration rule for %r: not a canonical user "
                           "ID", user_id)
            return
        try:
            rule = self._policy.registration_rule_for(email=address)
            if rule is None:
                return
            await self._wait_ready()
            assignment = Assignment(user_id=user_id, role=rule.role, source=SOURCE_RULE,
                                    assigned_by=None,
                                    assigned_ts=self._api.get_current_time_msec())
            written, version = await self._store.assign(assignment, only_if_absent=True)
            if written:
                logger.info("access_policy: %s gets role %r by registration rule",
                            user_id, rule.role)
                self._after_change(version)
        except Exception:
            logger.exception("access_policy: registration rule for %s failed", user_id)
