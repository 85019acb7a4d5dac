"""Every query this project makes on Synapse's own tables (read only), in one place.

Synapse's schema is not module API: these statements name the columns they rely on, and the
contract tests run each against the schema a real Synapse created, on SQLite and PostgreSQL.
Placeholders are ``?``; ``run_db_interaction`` converts them for PostgreSQL.
"""

from __future__ import annotations

from hearth.owned_tables import Cursor


def find_user_txn(txn: Cursor, user_id: str) -> tuple[str, str | None] | None:
    """(canonical user ID, password hash) as Synapse finds them at login, or None.

    Like ``AuthHandler._find_user_id_and_pwd_hash``: case-insensitive; an exact match wins;
    several inexact matches are ambiguous (None).
    """
    txn.execute("SELECT name, password_hash FROM users WHERE lower(name) = lower(?)",
                (user_id,))
    rows = [(str(r[0]), r[1]) for r in txn.fetchall()]
    for name, password_hash in rows:
        if name == user_id:
            return name, password_hash
    if len(rows) == 1:
        return rows[0]
    return None


def count_users_by_role_txn(txn: Cursor, assignments_table: str
                            ) -> tuple[dict[str, int], int, int]:
    """Active (not deactivated) local users: by the role ``assignments_table`` gives them,
    then (members, guests) with no row there. The table has ``user_id`` and ``role``."""
    by_role = (f"SELECT a.role, COUNT(*) FROM {assignments_table} a "  # noqa: S608 - a constant
               "JOIN users u ON u.name = a.user_id WHERE u.deactivated = 0 GROUP BY a.role")
    txn.execute(by_role)
    assigned = {str(role): int(count) for role, count in txn.fetchall()}
    unassigned = ("SELECT u.is_guest, COUNT(*) FROM users u WHERE u.deactivated = 0 AND "  # noqa: S608
                  f"NOT EXISTS (SELECT 1 FROM {assignments_table} a WHERE a.user_id = u.name) "
                  "GROUP BY u.is_guest")
    txn.execute(unassigned)
    members = guests = 0
    for is_guest, count in txn.fetchall():
        if is_guest:
            guests += int(count)
        else:
            members += int(count)
    return assigned, members, guests


def media_bytes_txn(txn: Cursor, user_id: str) -> int:
    """Bytes of media the user has uploaded and that are still stored (not URL previews)."""
    txn.execute(
        "SELECT COALESCE(SUM(media_length), 0) FROM local_media_repository "
        "WHERE user_id = ? AND url_cache IS NULL",
        (user_id,),
    )
    row = txn.fetchone()
    return int(row[0]) if row else 0


def active_users_since_txn(txn: Cursor, since_ms: int) -> int:
    """Users with client activity after ``since_ms`` (Synapse's ``user_ips`` record)."""
    txn.execute("SELECT COUNT(DISTINCT user_id) FROM user_ips WHERE last_seen > ?",
                (since_ms,))
    row = txn.fetchone()
    return int(row[0]) if row else 0


def last_stream_ordering_txn(txn: Cursor) -> int:
    """The stream position of the newest event this server has persisted (0 when none)."""
    txn.execute("SELECT COALESCE(MAX(stream_ordering), 0) FROM events")
    row = txn.fetchone()
    return int(row[0]) if row else 0


def events_sent_after_txn(txn: Cursor, after: int, server_name: str, limit: int
                          ) -> list[tuple[int, str, bool, str]]:
    """Events sent by this server's users after stream position ``after``, oldest first:
    (stream position, type, is a state event, the event's JSON)."""
    suffix = ":" + server_name.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    txn.execute(
        "SELECT e.stream_ordering, e.type, e.state_key IS NOT NULL, j.json FROM events e "
        "JOIN event_json j ON j.event_id = e.event_id "
        "WHERE e.stream_ordering > ? AND e.sender LIKE ? ESCAPE '\\' "
        "ORDER BY e.stream_ordering LIMIT ?",
        (after, "%" + suffix, limit),
    )
    return [(int(r[0]), str(r[1]), bool(r[2]), str(r[3])) for r in txn.fetchall()]
