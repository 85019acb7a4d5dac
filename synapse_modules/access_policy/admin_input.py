"""Reading the roles admin API's input strictly: user IDs, query parameters, the JSON body.

Pure (no Synapse imports) so every input shape is unit-tested. Each problem is an
``InputError`` naming the field, the value (shortened) and what was expected; the API turns it
into a 400 Matrix error and counts it by ``reason``.

User IDs follow the one grammar of the project (``hearth.configuration.types.user_id``: a
lowercase localpart, as Synapse registers them). An ID written any other way (upper case,
spaces, no server, a look-alike character) is refused, never stored: Synapse hands the policy
the canonical ID, so an assignment under another spelling would never be enforced.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from typing import Any

from hearth.configuration.types import ROLE_NAME, USER_ID_EXPECTED, user_id

MAX_SHOWN = 80
LIMIT_DIGITS = re.compile(r"[0-9]{1,4}")

REASON_USER_ID = "invalid_user_id"
REASON_QUERY = "invalid_query"
REASON_BODY = "invalid_body"


class InputError(ValueError):
    """Bad input: 400 with ``errcode``, counted under ``reason``."""

    def __init__(self, reason: str, message: str, errcode: str = "M_INVALID_PARAM") -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message
        self.errcode = errcode


def shown(value: object) -> str:
    """``repr`` of a value, cut short so an error never echoes a huge input."""
    text = repr(value)
    return text if len(text) <= MAX_SHOWN else text[:MAX_SHOWN] + "…"


def local_user_id(raw: str, field: str, server_name: str) -> str:
    """``raw`` when it is a user ID of this server, written canonically; InputError otherwise."""
    try:
        user_id(raw)
    except ValueError:
        hint = ""
        lowered = raw.strip().lower()
        if lowered != raw:
            try:
                hint = f" (user IDs are lowercase and unpadded: {shown(user_id(lowered))}?)"
            except ValueError:
                hint = ""
        raise InputError(REASON_USER_ID,
                         f"Invalid user ID in '{field}': got {shown(raw)}, "
                         f"{USER_ID_EXPECTED.replace('example.org', server_name)}{hint}"
                         ) from None
    if raw.partition(":")[2] != server_name:
        raise InputError(REASON_USER_ID,
                         f"'{field}' {shown(raw)} is not a user of this server: roles apply "
                         f"to local users (@…:{server_name})")
    return raw


def single_query(args: Mapping[bytes, Sequence[bytes]] | None, name: str) -> str | None:
    """The one value of query parameter ``name`` (UTF-8), None when absent; twice is an error."""
    values = (args or {}).get(name.encode("ascii"))
    if not values:
        return None
    if len(values) > 1:
        raise InputError(REASON_QUERY, f"'{name}' is given {len(values)} times: give it once")
    try:
        return values[0].decode("utf-8")
    except UnicodeDecodeError:
        raise InputError(REASON_QUERY, f"Invalid '{name}': not UTF-8 text") from None


def page_limit(raw: str | None, default: int, maximum: int) -> int:
    """``limit``: ASCII digits from 1 to ``maximum`` (``default`` when absent)."""
    if raw is None:
        return default
    if LIMIT_DIGITS.fullmatch(raw) is None or not 1 <= int(raw) <= maximum:
        raise InputError(REASON_QUERY, f"Invalid 'limit': got {shown(raw)}, expected an "
                                       f"integer from 1 to {maximum} in ASCII digits")
    return int(raw)


def role_name(raw: Any, field: str, known: Sequence[str], reason: str) -> str:
    """A role name the policy defines; ``field`` names where it came from."""
    if not isinstance(raw, str):
        raise InputError(reason, f"Invalid '{field}': got {shown(raw)}, expected a role name "
                                 "(a string)", "M_BAD_JSON")
    if ROLE_NAME.fullmatch(raw) is None or raw not in known:
        raise InputError(reason, f"Unknown role {shown(raw)}: expected one of "
                                 f"{', '.join(known)} (in '{field}')")
    return raw


class _Duplicate(ValueError):
    pass


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise _Duplicate(key)
        result[key] = value
    return result


def _no_constants(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def json_object(raw: bytes, example: str) -> dict[str, Any]:
    """The body as a JSON object: strict UTF-8 JSON, no NaN, no duplicate keys, any depth."""
    try:
        body = json.loads(raw.decode("utf-8"), object_pairs_hook=_no_duplicates,
                          parse_constant=_no_constants)
    except _Duplicate as duplicate:
        raise InputError(REASON_BODY, f"Key {shown(str(duplicate))} appears twice in the "
                                      "request body", "M_BAD_JSON") from None
    except (ValueError, UnicodeDecodeError, RecursionError):
        raise InputError(REASON_BODY, f"Request body is not JSON: expected {example}",
                         "M_NOT_JSON") from None
    if not isinstance(body, dict):
        raise InputError(REASON_BODY, f"Request body must be a JSON object such as {example}",
                         "M_BAD_JSON")
    return body
