"""Role assignments on real SQLite: migrations, writes that bump the version, the resolver."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import pytest

from hearth.owned_tables import migrate_txn
from hearth.render import PROJECT_DIR
from hearth.synapse_modules.access_policy import Role, load_policy
from hearth.synapse_modules.access_policy.resolver import RoleResolver
from hearth.synapse_modules.access_policy.store import (
    LATEST,
    SCHEMA,
    SOURCE_ADMIN,
    SOURCE_RULE,
    Assignment,
    PolicyStore,
)

T = TypeVar("T")
POLICY = load_policy(PROJECT_DIR / "config" / "policy.yaml")


class SqliteRunner:
    """Runs a transaction function like Synapse's run_db_interaction, on sqlite3."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn
        self.calls = 0

    async def __call__(self, desc: str, func: Callable[..., T], *args: Any) -> T:
        self.calls += 1
        cursor = self.conn.cursor()
        try:
            result = func(cursor, *args)
        except Exception:
            self.conn.rollback()
            raise
        self.conn.commit()
        return result


@pytest.fixture
def conn(tmp_path: Path) -> Iterator[sqlite3.Connection]:
    connection = sqlite3.connect(tmp_path / "homeserver.db")
    # The two Synapse tables the store reads, reduced to the columns it uses.
    connection.execute("CREATE TABLE users (name TEXT, is_guest SMALLINT DEFAULT 0, "
                       "deactivated SMALLINT DEFAULT 0)")
    connection.execute("CREATE TABLE local_media_repository (media_id TEXT, media_length "
                       "INTEGER, user_id TEXT, url_cache TEXT)")
    connection.commit()
    yield connection
    connection.close()


def grant(user: str, role: str, source: str = SOURCE_ADMIN) -> Assignment:
    return Assignment(user, role, source, "@admin:hs" if source == SOURCE_ADMIN else None, 1)


async def test_migrations_are_idempotent(conn: sqlite3.Connection) -> None:
    """The first run migrates from 0; later runs change nothing and keep the data."""
    store = PolicyStore(SqliteRunner(conn))
    assert await store.migrate() == 0
    await store.assign(grant("@a:hs", "bot"))
    assert await store.migrate() == LATEST
    assert migrate_txn(conn.cursor(), SCHEMA) == LATEST
    assert await store.schema_version() == LATEST
    assert (await store.get_assignment("@a:hs")) == grant("@a:hs", "bot")


async def test_assign_revoke_list_and_version(conn: sqlite3.Connection) -> None:
    """Every write bumps the version; listing pages by user ID and filters by role."""
    store = PolicyStore(SqliteRunner(conn))
    await store.migrate()
    assert await store.get_version() == 0
    assert await store.assign(grant("@b:hs", "bot")) == (True, 1)
    assert await store.assign(grant("@a:hs", "guest")) == (True, 2)
    assert await store.assign(grant("@c:hs", "bot")) == (True, 3)
    assert await store.assign(grant("@a:hs", "moderator")) == (True, 4)
    assert await store.assign(grant("@a:hs", "member", SOURCE_RULE),
                              only_if_absent=True) == (False, 4)
    page = await store.list_assignments(None, None, 2)
    assert [a.user_id for a in page] == ["@a:hs", "@b:hs"]
    assert [a.user_id for a in await store.list_assignments(None, "@b:hs", 10)] == ["@c:hs"]
    assert [a.user_id for a in await store.list_assignments("bot", None, 10)] == [
        "@b:hs", "@c:hs"]
    revoked, version = await store.revoke("@a:hs")
    assert revoked is not None and revoked.role == "moderator" and version == 5
    assert await store.revoke("@a:hs") == (None, 5)
    assert await store.get_assignment("@a:hs") is None


async def test_count_users_and_media_bytes(conn: sqlite3.Connection) -> None:
    """Counts skip deactivated accounts; media bytes skip URL-preview cache entries."""
    conn.executemany("INSERT INTO users (name, is_guest, deactivated) VALUES (?, ?, ?)",
                     [("@a:hs", 0, 0), ("@b:hs", 0, 0), ("@c:hs", 0, 1), ("@g:hs", 1, 0),
                      ("@d:hs", 0, 0)])
    conn.executemany("INSERT INTO local_media_repository VALUES (?, ?, ?, ?)",
                     [("m1", 100, "@a:hs", None), ("m2", 50, "@a:hs", None),
                      ("m3", 999, "@a:hs", "http://preview"), ("m4", 7, "@b:hs", None)])
    conn.commit()
    store = PolicyStore(SqliteRunner(conn))
    await store.migrate()
    await store.assign(grant("@a:hs", "bot"))
    await store.assign(grant("@c:hs", "bot"))
    counts = await store.count_users()
    assert (counts.assigned, counts.unassigned_members, counts.unassigned_guests) == (
        {"bot": 1}, 2, 1)
    assert await store.media_bytes("@a:hs") == 150
    assert await store.media_bytes("@nobody:hs") == 0


async def test_resolver_caches_until_the_version_moves(conn: sqlite3.Connection) -> None:
    """Lookups are cached; a new version drops the cache so the change is seen."""
    runner = SqliteRunner(conn)
    store = PolicyStore(runner)
    await store.migrate()

    async def not_guest(user_id: str) -> bool:
        return False

    resolver = RoleResolver(POLICY, store.get_assignment, not_guest)
    assert resolver.observe_version(await store.get_version())
    assert (await resolver.role_of("@a:hs")).name == "member"
    calls = runner.calls
    assert (await resolver.role_of("@a:hs")).name == "member"
    assert runner.calls == calls  # cached
    _, version = await store.assign(grant("@a:hs", "bot"))
    assert (await resolver.role_of("@a:hs")).name == "member"  # not yet observed
    assert resolver.observe_version(version)
    resolved = await resolver.resolve("@a:hs")
    assert (resolved.role.name, resolved.source) == ("bot", "assignment")
    assert not resolver.observe_version(version)


async def test_resolver_guest_unknown_role_and_in_flight_invalidation() -> None:
    """Guests get guest_role; a role the policy lost falls back to the default; a lookup
    racing an invalidation is not cached."""
    stored: dict[str, Assignment] = {"@old:hs": grant("@old:hs", "retired")}
    resolver: RoleResolver

    async def get(user_id: str) -> Assignment | None:
        if user_id == "@racing:hs":
            resolver.invalidate()  # a change lands while this lookup is in flight
        return stored.get(user_id)

    async def is_guest(user_id: str) -> bool:
        return user_id.startswith("@g")

    resolver = RoleResolver(POLICY, get, is_guest)
    assert (await resolver.resolve("@g1:hs")).source == "guest"
    assert (await resolver.role_of("@g1:hs")).name == "guest"
    old = await resolver.resolve("@old:hs")
    assert (old.role.name, old.source) == ("member", "default")
    await resolver.resolve("@racing:hs")
    stored["@racing:hs"] = grant("@racing:hs", "bot")
    assert (await resolver.role_of("@racing:hs")).name == "bot"


async def test_runtime_lookup_for_other_modules() -> None:
    """Other in-process modules get the enforced role, or None without the policy module."""
    from hearth.synapse_modules.access_policy import runtime

    assert await runtime.role_of("@a:hs") is None

    async def lookup(user_id: str) -> Role:
        return POLICY.role("bot")

    runtime.register(lookup)
    try:
        role = await runtime.role_of("@a:hs")
        assert role is not None and role.name == "bot"
    finally:
        runtime.register(None)
