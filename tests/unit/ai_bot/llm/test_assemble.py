"""Tool-call delta assembly, without a server."""

from __future__ import annotations

from hearth.ai_bot.llm.assemble import ToolCallAssembler
from hearth.ai_bot.llm.types import ToolCall


def test_interleaved_deltas_are_assembled_by_index() -> None:
    """Fragments of two calls arriving interleaved come out whole and ordered by index."""
    calls = ToolCallAssembler()
    calls.add(1, "call_b", "second", "")
    calls.add(0, "call_a", "first", '{"q": ')
    calls.add(1, None, None, "{}")
    calls.add(0, None, None, '"x"}')
    assert calls.calls() == (ToolCall("call_a", "first", '{"q": "x"}'),
                             ToolCall("call_b", "second", "{}"))


def test_repeated_names_and_missing_ids_are_tolerated() -> None:
    """A name repeated in every delta is kept once; a call with no id gets one; no args → {}."""
    calls = ToolCallAssembler()
    calls.add(0, None, "lookup", None)
    calls.add(0, None, "lookup", None)
    assert calls.calls() == (ToolCall("call_0", "lookup", "{}"),)


def test_without_index_a_new_id_starts_a_new_call() -> None:
    """Index-less deltas: a new id is a new call, a delta without id continues the last."""
    calls = ToolCallAssembler()
    assert not calls
    calls.add(None, "c1", "a", '{"x":')
    calls.add(None, None, None, "1}")
    calls.add(None, "c2", "b", "{}")
    assert calls.calls() == (ToolCall("c1", "a", '{"x":1}'), ToolCall("c2", "b", "{}"))
