"""!ai commands and the choice of model (pure handlers)."""

from __future__ import annotations

from typing import Any

from hearth.ai_bot.budget.types import SpendSummary
from hearth.ai_bot.commands import CommandEnv, effective_model, run_command
from hearth.ai_bot.context.room_state import RoomSettings
from hearth.ai_bot.permissions import AiAccess
from hearth.ai_bot.routing import Command, Conversation

ROOM = Conversation("!r")
THREAD = Conversation("!r", "$t")
CATALOGUE = ["gpt-4o", "gpt-4o-mini", "gpt-4.1"]
MEMBER = AiAccess("member", True, ("gpt-4o-mini",))
MODERATOR = AiAccess("moderator", True, ("gpt-4o*",))
GUEST = AiAccess("guest", False, ())


def env(access: AiAccess = MEMBER, **changes: Any) -> CommandEnv:
    values: dict[str, Any] = dict(sender="@u:hs", conversation=ROOM, event_ts=100,
                                  access=access, catalogue=CATALOGUE,
                                  default_model="gpt-4o-mini", settings=RoomSettings(),
                                  is_moderator=False)
    values.update(changes)
    return CommandEnv(**values)


def test_commands_models_lists_allowed_with_current() -> None:
    """!ai models lists the role's models and marks the one in use."""
    reply = run_command(Command("models", "", ROOM), env(MODERATOR)).reply
    assert "`gpt-4o-mini` ✅" in reply and "`gpt-4o`" in reply and "gpt-4.1" not in reply


def test_commands_model_switch_respects_role() -> None:
    """!ai model sets a room or thread model only when the role allows it."""
    refused = run_command(Command("model", "gpt-4o", ROOM), env())
    assert "may not use" in refused.reply and refused.settings is None
    assert "no model called" in run_command(Command("model", "gpt-9", ROOM), env()).reply
    assert "Usage" in run_command(Command("model", "", ROOM), env()).reply
    done = run_command(Command("model", "gpt-4o", THREAD), env(MODERATOR, conversation=THREAD))
    assert "This thread now uses" in done.reply
    assert done.settings is not None and done.settings.model_for(THREAD) == "gpt-4o"
    assert done.settings.model_for(ROOM) is None


def test_commands_effective_model_falls_back_for_other_roles() -> None:
    """A room's model the asking user may not use falls back to the default."""
    settings = RoomSettings().with_model(ROOM, "gpt-4o")
    assert effective_model(MODERATOR, settings, ROOM, "gpt-4o-mini", CATALOGUE) == "gpt-4o"
    assert effective_model(MEMBER, settings, ROOM, "gpt-4o-mini", CATALOGUE) == "gpt-4o-mini"
    only_41 = AiAccess("x", True, ("gpt-4.1",))
    assert effective_model(only_41, settings, ROOM, "gpt-4o-mini", CATALOGUE) == "gpt-4.1"
    assert effective_model(GUEST, settings, ROOM, "gpt-4o-mini", CATALOGUE) is None


def test_commands_reset_system_usage_help() -> None:
    """reset stores the event time; system needs a moderator; usage and help answer."""
    reset = run_command(Command("reset", "", ROOM), env())
    assert reset.settings is not None and reset.settings.reset_ts(ROOM) == 100
    assert "Only room moderators" in run_command(Command("system", "x", ROOM), env()).reply
    set_ = run_command(Command("system", "Be kind", ROOM), env(is_moderator=True))
    assert set_.settings is not None and set_.settings.system_prompt == "Be kind"
    shown = run_command(Command("system", "", ROOM), env(settings=set_.settings)).reply
    assert "> Be kind" in shown
    cleared = run_command(Command("system", "clear", ROOM),
                          env(is_moderator=True, settings=set_.settings))
    assert cleared.settings is not None and cleared.settings.system_prompt is None
    assert "no system prompt" in run_command(Command("system", "", ROOM), env()).reply
    summary = SpendSummary(0.01, 0.2, 0.5, 1.0, 1.0, None)
    usage = run_command(Command("usage", "", ROOM), env(usage=summary)).reply
    assert "$0.0100 today (limit $1.00)" in usage and "$1.0000 this month" in usage
    assert "not available" in run_command(Command("usage", "", ROOM), env()).reply
    assert "!ai reset" in run_command(Command("help", "", ROOM), env()).reply
    assert "Unknown command" in run_command(Command("nope", "", ROOM), env()).reply


def test_commands_refused_for_roles_without_ai() -> None:
    """Any command by a role without AI gets the refusal."""
    assert "does not include" in run_command(Command("help", "", ROOM), env(GUEST)).reply
