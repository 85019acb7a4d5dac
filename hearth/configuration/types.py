"""The value grammars every config shares, each written once.

Hearth's settings, the Synapse modules' configs and the bot's config all accept durations,
sizes, role names, user IDs, ports and address ranges. Each grammar lives here so a value one
of them accepts is accepted, and means the same, everywhere else, Synapse included: settings
durations and sizes are passed into ``homeserver.yaml`` as they are, so the grammars are the
strict subset of Synapse's own parsers (``Config.parse_duration`` / ``parse_size``) that
leaves nothing to guess.

- Duration: a whole number and one unit, ``s``, ``m``, ``h``, ``d``, ``w`` or ``y`` (365 days):
  ``30s``, ``15m``, ``11h``, ``7d``. ASCII digits only, no sign, no spaces, no bare numbers
  (Synapse reads a bare number as milliseconds, people read it as seconds). At most 100y.
  ``Duration`` keeps the text (rendered on as written); ``DurationMs`` is milliseconds.
- Byte size: a whole number of bytes, optionally followed by ``K``, ``M``, ``G`` or ``T``
  (powers of 1024): ``1024``, ``512K``, ``50M``, ``2G``. No fractions, no lowercase units.
  ``ByteSizeText`` keeps the text; ``ByteSize`` is bytes.
- Role name: ``^[a-z][a-z0-9_-]{0,63}$`` (the access policy's role keys).
- User ID: ``@localpart:server``, the localpart in the spec's modern character set
  (``a-z 0-9 . _ = - / +``), as Synapse checks new registrations; at most 255 characters.
  The server name is a host name or ``[IPv6]``, optionally with ``:port``.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable
from typing import Annotated, Any

from pydantic import BeforeValidator, Field

DURATION_UNITS_MS = {"s": 1000, "m": 60_000, "h": 3_600_000, "d": 86_400_000,
                     "w": 604_800_000, "y": 31_536_000_000}
MAX_DURATION_MS = 100 * DURATION_UNITS_MS["y"]
DURATION_EXPECTED = "expected a duration such as 30s, 15m, 11h or 7d"
_DURATION = re.compile(r"([0-9]+)([smhdwy])")

SIZE_UNITS = {"": 1, "K": 1024, "M": 1024**2, "G": 1024**3, "T": 1024**4}
MAX_SIZE_BYTES = 1024**5
SIZE_EXPECTED = "expected a size such as 512K, 50M or 2G"
_SIZE = re.compile(r"([0-9]+)([KMGT]?)")

ROLE_NAME = re.compile(r"[a-z][a-z0-9_-]{0,63}")
ROLE_EXPECTED = ("expected a role name such as admin or member (a lowercase letter, then up "
                 "to 63 lowercase letters, digits, '_' or '-')")

LOCALPART = re.compile(r"[a-z0-9._=\-/+]+")
LOCALPART_EXPECTED = ("expected a user name of lowercase letters, digits and . _ = - / + "
                      "(e.g. ai)")
SERVER_NAME = re.compile(r"[A-Za-z0-9.\-]+(:[0-9]{1,5})?|\[[0-9A-Fa-f:.]+\](:[0-9]{1,5})?")
SERVER_NAME_EXPECTED = "expected a server name such as example.org or localhost:8448"
USER_ID_EXPECTED = "expected a user ID such as @alice:example.org"
MAX_USER_ID_LENGTH = 255

NETWORK_EXPECTED = "expected an IP address or range such as 10.0.0.0/8"

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


def _count_of_units(value: Any, pattern: re.Pattern[str], units: dict[str, int],
                    expected: str, largest: tuple[int, str]) -> int:
    match = pattern.fullmatch(value) if isinstance(value, str) else None
    if match is None:
        raise ValueError(expected)
    result = int(match.group(1)) * units[match.group(2)]
    if result > largest[0]:
        raise ValueError(f"{expected}, at most {largest[1]}")
    return result


def duration_ms(value: Any) -> int:
    """Milliseconds of a duration such as ``15m``; ValueError naming the grammar otherwise."""
    return _count_of_units(value, _DURATION, DURATION_UNITS_MS, DURATION_EXPECTED,
                           (MAX_DURATION_MS, "100y"))


def byte_size(value: Any) -> int:
    """Bytes of a size such as ``50M`` (or a whole number of bytes); ValueError otherwise."""
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        value = str(value)
    return _count_of_units(value, _SIZE, SIZE_UNITS, SIZE_EXPECTED, (MAX_SIZE_BYTES, "1024T"))


def _matching(pattern: re.Pattern[str], expected: str) -> Callable[[Any], str]:
    """A check that passes text matching ``pattern`` whole and refuses anything else."""
    def check(value: Any) -> str:
        if not isinstance(value, str) or pattern.fullmatch(value) is None:
            raise ValueError(expected)
        return value
    return check


role_name = _matching(ROLE_NAME, ROLE_EXPECTED)
localpart = _matching(LOCALPART, LOCALPART_EXPECTED)
server_name = _matching(SERVER_NAME, SERVER_NAME_EXPECTED)


def user_id(value: Any) -> str:
    """``value`` when it is ``@localpart:server`` with a modern localpart; ValueError otherwise."""
    if not isinstance(value, str) or len(value) > MAX_USER_ID_LENGTH or not value.startswith("@"):
        raise ValueError(USER_ID_EXPECTED)
    local, sep, server = value[1:].partition(":")
    if not sep or LOCALPART.fullmatch(local) is None or SERVER_NAME.fullmatch(server) is None:
        raise ValueError(USER_ID_EXPECTED)
    return value


def ip_network(value: Any) -> IPNetwork:
    """A range such as ``10.0.0.0/8`` or one address (host bits allowed); ValueError otherwise."""
    if not isinstance(value, str) or not value.strip():
        raise ValueError(NETWORK_EXPECTED)
    try:
        return ipaddress.ip_network(value.strip(), strict=False)
    except ValueError:
        raise ValueError(NETWORK_EXPECTED) from None


def _keeping_text(check: Callable[[Any], object]) -> Callable[[Any], str]:
    """A validator that checks ``value`` with ``check`` and keeps the text as written."""
    def validate(value: Any) -> str:
        check(value)
        return str(value)
    return validate


Duration = Annotated[str, BeforeValidator(_keeping_text(duration_ms))]
DurationMs = Annotated[int, BeforeValidator(duration_ms)]
ByteSizeText = Annotated[str, BeforeValidator(_keeping_text(byte_size))]
ByteSize = Annotated[int, BeforeValidator(byte_size)]
RoleName = Annotated[str, BeforeValidator(role_name)]
Localpart = Annotated[str, BeforeValidator(localpart)]
UserId = Annotated[str, BeforeValidator(user_id)]
ServerName = Annotated[str, BeforeValidator(server_name)]
IpNetworkText = Annotated[str, BeforeValidator(_keeping_text(ip_network))]
IpNetwork = Annotated[IPNetwork, BeforeValidator(ip_network)]
Port = Annotated[int, Field(ge=1, le=65535, strict=True)]
NonEmptyText = Annotated[str, Field(min_length=1)]
