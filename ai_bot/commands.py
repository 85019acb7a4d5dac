"""``!ai`` commands: pure handlers that return the reply and, when they change it, the room's
new settings; the caller sends the reply and saves the settings."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from hearth.ai_bot import strings
from hearth.ai_bot.budget.types import SpendSummary
from hearth.ai_bot.context.room_state import RoomSettings
from hearth.ai_bot.permissions import AiAccess
from hearth.ai_bot.routing import Command, Conversation

COMMANDS = ("help", "models", "model", "reset", "usage", "system")


@dataclass(frozen=True)
class CommandEnv:
    """What a command may read."""

    sender: str
    conversation: Conversation
    event_ts: int
    access: AiAccess
    catalogue: Sequence[str]
    default_model: str
    settings: RoomSettings
    is_moderator: bool
    usage: SpendSummary | None = None


@dataclass(frozen=True)
class CommandResult:
    reply: str
    settings: RoomSettings | None = None  # set when the command changed them


def effective_model(
    access: AiAccess, settings: RoomSettings, conversation: Conversation, default: str,
    catalogue: Sequence[str],
) -> str | None:
    """The model for this user here: the conversation's choice if the user's role allows it,
    else the admin default, else the first allowed model; None when none is allowed."""
    for candidate in (settings.model_for(conversation), default):
        if candidate and candidate in catalogue and access.may_use_model(candidate):
            return candidate
    allowed = access.allowed(catalogue)
    return allowed[0] if allowed else None


def _models(env: CommandEnv) -> CommandResult:
    current = effective_model(env.access, env.settings, env.conversation, env.default_model,
                              env.catalogue)
    lines = [strings.MODEL_LIST_HEADER]
    for name in env.access.allowed(env.catalogue):
        mark = " ✅" if name == current else ""
        lines.append(f"- `{name}`{mark}")
    return CommandResult("\n".join(lines))


def _model(command: Command, env: CommandEnv) -> CommandResult:
    name = command.args.strip()
    if not name:
        return CommandResult(strings.MODEL_USAGE)
    if name not in env.catalogue:
        return CommandResult(strings.MODEL_UNKNOWN.format(model=name))
    if not env.access.may_use_model(name):
        return CommandResult(strings.MODEL_NOT_ALLOWED.format(model=name))
    template = strings.MODEL_SET_THREAD if env.conversation.thread_root else strings.MODEL_SET_ROOM
    return CommandResult(template.format(model=name),
                         env.settings.with_model(env.conversation, name))


def _usage(env: CommandEnv) -> CommandResult:
    usage = env.usage
    if usage is None:
        return CommandResult(strings.USAGE_UNAVAILABLE)

    def limit(value: float | None) -> str:
        return "" if value is None else strings.USAGE_LIMIT.format(limit=value)

    return CommandResult(strings.USAGE.format(
        user_day=usage.user_day_usd, user_month=usage.user_month_usd,
        room_day=usage.room_day_usd, room_month=usage.room_month_usd,
        user_day_limit=limit(usage.user_day_limit_usd),
        user_month_limit=limit(usage.user_month_limit_usd),
    ))


def _system(command: Command, env: CommandEnv) -> CommandResult:
    text = command.args.strip()
    if not text:
        prompt = env.settings.system_prompt
        if prompt is None:
            return CommandResult(strings.SYSTEM_NONE)
        return CommandResult(strings.SYSTEM_SHOW.format(prompt=prompt.replace("\n", "\n> ")))
    if not env.is_moderator:
        return CommandResult(strings.SYSTEM_FORBIDDEN)
    if text.lower() == "clear":
        return CommandResult(strings.SYSTEM_CLEARED, env.settings.with_system_prompt(None))
    return CommandResult(strings.SYSTEM_SET, env.settings.with_system_prompt(text))


def run_command(command: Command, env: CommandEnv) -> CommandResult:
    """Answer one command. Users whose role excludes the AI get the refusal for any command."""
    if not env.access.use_ai:
        return CommandResult(strings.NOT_ALLOWED)
    if command.name == "help":
        return CommandResult(strings.HELP)
    if command.name == "models":
        return _models(env)
    if command.name == "model":
        return _model(command, env)
    if command.name == "reset":
        return CommandResult(strings.RESET_DONE,
                             env.settings.with_reset(env.conversation, env.event_ts))
    if command.name == "usage":
        return _usage(env)
    if command.name == "system":
        return _system(command, env)
    return CommandResult(strings.UNKNOWN_COMMAND.format(name=command.name))
