"""The tables of the media pipeline: what each stored file is, and what was refused.

Keyed by the SHA-256 of the stored bytes (the same content gives the same facts, whoever
uploaded it), so the media-info endpoint finds a media ID's facts through the hash Synapse
records for it. Refused files (malware) are recorded with who sent them and why.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

from hearth.owned_tables import Cursor, ModuleTables, Runner, Schema

SCHEMA = Schema("hearth_media_schema_version", (
    (1, (
        """CREATE TABLE IF NOT EXISTS hearth_media_info (
            sha256 TEXT NOT NULL PRIMARY KEY,
            mime TEXT NOT NULL,
            kind TEXT NOT NULL,
            size BIGINT NOT NULL,
            width INTEGER,
            height INTEGER,
            duration_ms BIGINT,
            animated BOOLEAN NOT NULL,
            blurhash TEXT,
            poster BOOLEAN NOT NULL,
            created_ts BIGINT NOT NULL
        )""",
        """CREATE TABLE IF NOT EXISTS hearth_media_refused (
            sha256 TEXT NOT NULL,
            user_id TEXT NOT NULL,
            reason TEXT NOT NULL,
            detail TEXT NOT NULL,
            size BIGINT NOT NULL,
            refused_ts BIGINT NOT NULL
        )""",
        """CREATE INDEX IF NOT EXISTS hearth_media_refused_ts
            ON hearth_media_refused (refused_ts)""",
    )),
))
LATEST = SCHEMA.latest


@dataclass(frozen=True)
class MediaInfo:
    """What the pipeline learnt of one stored file."""

    sha256: str
    mime: str
    kind: str
    size: int
    width: int | None
    height: int | None
    duration_ms: int | None
    animated: bool
    blurhash: str | None
    poster: bool
    created_ts: int

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Refusal:
    """One refused upload that is kept for review (quarantined)."""

    sha256: str
    user_id: str
    reason: str
    detail: str
    size: int
    refused_ts: int

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


_INFO_COLUMNS = ("sha256, mime, kind, size, width, height, duration_ms, animated, blurhash, "
                 "poster, created_ts")


def put_info_txn(txn: Cursor, info: MediaInfo) -> None:
    txn.execute(
        f"INSERT INTO hearth_media_info ({_INFO_COLUMNS}) VALUES "  # noqa: S608 - constants
        "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (sha256) DO NOTHING",
        (info.sha256, info.mime, info.kind, info.size, info.width, info.height,
         info.duration_ms, info.animated, info.blurhash, info.poster, info.created_ts))


def _info(row: Sequence[Any]) -> MediaInfo:
    return MediaInfo(row[0], row[1], row[2], int(row[3]), row[4], row[5], row[6],
                     bool(row[7]), row[8], bool(row[9]), int(row[10]))


def get_info_txn(txn: Cursor, sha256: str) -> MediaInfo | None:
    txn.execute(f"SELECT {_INFO_COLUMNS} FROM hearth_media_info WHERE sha256 = ?",  # noqa: S608
                (sha256,))
    row = txn.fetchone()
    return _info(row) if row else None


def add_refusal_txn(txn: Cursor, refusal: Refusal) -> None:
    txn.execute(
        "INSERT INTO hearth_media_refused (sha256, user_id, reason, detail, size, refused_ts)"
        " VALUES (?, ?, ?, ?, ?, ?)",
        (refusal.sha256, refusal.user_id, refusal.reason, refusal.detail, refusal.size,
         refusal.refused_ts))


def list_refusals_txn(txn: Cursor, before_ts: int | None, limit: int) -> list[Refusal]:
    if before_ts is None:
        txn.execute("SELECT sha256, user_id, reason, detail, size, refused_ts FROM "
                    "hearth_media_refused ORDER BY refused_ts DESC LIMIT ?", (limit,))
    else:
        txn.execute("SELECT sha256, user_id, reason, detail, size, refused_ts FROM "
                    "hearth_media_refused WHERE refused_ts < ? ORDER BY refused_ts DESC "
                    "LIMIT ?", (before_ts, limit))
    return [Refusal(r[0], r[1], r[2], r[3], int(r[4]), int(r[5])) for r in txn.fetchall()]


class MediaInfoStore(ModuleTables):
    """Async access to the media pipeline's tables through Synapse's database pool."""

    def __init__(self, run: Runner) -> None:
        super().__init__(run, SCHEMA, "hearth_media")

    async def put_info(self, info: MediaInfo) -> None:
        await self._run("hearth_media_put_info", put_info_txn, info)

    async def get_info(self, sha256: str) -> MediaInfo | None:
        return await self._run("hearth_media_get_info", get_info_txn, sha256)

    async def add_refusal(self, refusal: Refusal) -> None:
        await self._run("hearth_media_add_refusal", add_refusal_txn, refusal)

    async def list_refusals(self, before_ts: int | None, limit: int) -> list[Refusal]:
        return await self._run("hearth_media_list_refusals", list_refusals_txn, before_ts,
                               limit)
