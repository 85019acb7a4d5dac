"""Per-room state of the bot, kept in the bot's room account data (survives restarts, needs
no database): the room's system prompt, reset points and model choices per conversation."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from hearth.ai_bot.routing import Conversation

ACCOUNT_DATA_TYPE = "org.hearth.ai.room"


@dataclass(frozen=True)
class RoomSettings:
    """What ``!ai system``, ``!ai reset`` and ``!ai model`` changed in one room."""

    system_prompt: str | None = None
    resets: Mapping[str, int] = field(default_factory=dict)  # conversation key → server ts
    models: Mapping[str, str] = field(default_factory=dict)  # conversation key → model

    @classmethod
    def from_json(cls, raw: Mapping[str, Any] | None) -> RoomSettings:
        if not raw:
            return cls()
        prompt = raw.get("system_prompt")
        resets = raw.get("resets")
        models = raw.get("models")
        return cls(
            system_prompt=prompt if isinstance(prompt, str) and prompt else None,
            resets={str(k): int(v) for k, v in (resets or {}).items()
                    if isinstance(v, int | float)} if isinstance(resets, Mapping) else {},
            models={str(k): str(v) for k, v in (models or {}).items()}
            if isinstance(models, Mapping) else {},
        )

    def to_json(self) -> dict[str, Any]:
        return {"system_prompt": self.system_prompt, "resets": dict(self.resets),
                "models": dict(self.models)}

    def reset_ts(self, conversation: Conversation) -> int:
        """Events at or before this server timestamp are not sent to the model."""
        return self.resets.get(conversation.key, 0)

    def with_reset(self, conversation: Conversation, ts: int) -> RoomSettings:
        return replace(self, resets={**self.resets, conversation.key: ts})

    def model_for(self, conversation: Conversation) -> str | None:
        """The thread's choice, else the room's, else None (the admin default)."""
        return self.models.get(conversation.key) or self.models.get(conversation.room_id)

    def with_model(self, conversation: Conversation, model: str) -> RoomSettings:
        return replace(self, models={**self.models, conversation.key: model})

    def with_system_prompt(self, prompt: str | None) -> RoomSettings:
        return replace(self, system_prompt=prompt or None)
