"""Turns → the model's messages, trimmed to the model's window by a token budget."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from hearth.ai_bot.context.history import Turn
from hearth.ai_bot.llm.types import ChatMessage

DEFAULT_SYSTEM = (
    "You are a helpful assistant in a Matrix chat room. Several people may talk to you; each "
    "user message starts with the speaker's name. Answer in Markdown. Be concise."
)
TokenCounter = Callable[[str], int]


def estimate_tokens(text: str) -> int:
    """A cautious estimate (about 4 characters a token) when no tokenizer is at hand."""
    return len(text) // 3 + 4


def _safe_name(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_-]", "_", name)[:64] or "user"


@dataclass(frozen=True)
class Prompt:
    """The messages for the model, and the turns that did not fit (for a summary)."""

    messages: tuple[ChatMessage, ...]
    dropped: tuple[Turn, ...]
    tokens: int


def turn_message(turn: Turn, display_name: Callable[[str], str]) -> ChatMessage:
    if turn.role == "assistant":
        return ChatMessage(role="assistant", content=turn.text)
    name = display_name(turn.sender)
    return ChatMessage(role="user", content=f"{name}: {turn.text}", name=_safe_name(name))


def build_prompt(
    turns: Sequence[Turn], *, display_name: Callable[[str], str], system_prompt: str | None,
    budget_tokens: int, count: TokenCounter = estimate_tokens, summary: str | None = None,
    extra_system: str = "",
) -> Prompt:
    """System prompt, optional summary, then the newest turns that fit ``budget_tokens``.

    The last turn (the prompt being answered) is always kept, cut down if it alone is too long.
    """
    system_text = system_prompt or DEFAULT_SYSTEM
    if extra_system:
        system_text += f"\n\n{extra_system}"
    system = ChatMessage(role="system", content=system_text)
    used = count(system_text)
    head: list[ChatMessage] = [system]
    if summary:
        note = ChatMessage(role="system",
                           content=f"Summary of the earlier conversation:\n{summary}")
        used += count(note.content or "")
        head.append(note)
    kept: list[ChatMessage] = []
    index = len(turns) - 1
    while index >= 0:
        message = turn_message(turns[index], display_name)
        cost = count(message.content or "") + 4
        if used + cost > budget_tokens:
            if not kept:  # the prompt itself: keep its end
                room = max(budget_tokens - used - 4, 16) * 3
                text = message.content or ""
                message = ChatMessage(role=message.role, content=text[-room:], name=message.name)
                kept.append(message)
                used += count(message.content or "") + 4
                index -= 1
            break
        kept.append(message)
        used += cost
        index -= 1
    dropped = tuple(turns[: index + 1])
    return Prompt(messages=(*head, *reversed(kept)), dropped=dropped, tokens=used)
