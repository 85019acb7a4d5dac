"""Words for JSON values in error messages, shared by every part that checks client input.

Neutral ground (see tests/unit/test_layering.py): the Synapse modules and the bot may import
it, so a refused field is described the same way wherever it is refused.
"""

from __future__ import annotations

from collections.abc import Mapping


def json_type(value: object, *, array: str = "an array") -> str:
    """The JSON name of a value's type ("a string", "an object", ...), for error messages.

    ``array`` is how a list is called: login messages have always said "a list".
    """
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, Mapping):
        return "an object"
    if isinstance(value, list | tuple):
        return array
    return type(value).__name__
