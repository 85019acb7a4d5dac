"""The one loader: files, environment and --set merge in order, and a broken source is named."""

from __future__ import annotations

from pathlib import Path

import pytest

from hearth.ai_bot.config import load_config
from hearth.configuration.errors import ConfigError, SettingsError
from hearth.configuration.loader import (
    deep_merge,
    from_environment,
    load_sources,
    parse_assignment,
)


def test_sources_merge_in_order_later_ones_winning(tmp_path: Path) -> None:
    """base < first file < second file < environment < each --set, nested keys kept."""
    first, second = tmp_path / "a.yaml", tmp_path / "b.yaml"
    first.write_text("server: {port: 1, name: a}\nauth: {limit: 1}\n")
    second.write_text("server: {port: 2}\n")
    merged = load_sources({"profile": "dev", "server": {"port": 0}}, [first, second],
                          {"X__SERVER__PORT": "3", "X__AUTH__LIMIT": "4", "OTHER": "9"}, "X__",
                          ["server.port=5", "auth.limit=6", "auth.limit=7"])
    assert merged == {"profile": "dev", "server": {"port": 5, "name": "a"}, "auth": {"limit": 7}}


def test_values_are_read_as_yaml() -> None:
    """Numbers, lists and mappings from the environment and --set are typed; '' stays ''."""
    assert parse_assignment("a.b=[x, y]") == {"a": {"b": ["x", "y"]}}
    assert parse_assignment("a.b={c: 1}") == {"a": {"b": {"c": 1}}}
    assert parse_assignment("a.b=") == {"a": {"b": ""}}
    assert parse_assignment("a.b=x=y") == {"a": {"b": "x=y"}}
    assert parse_assignment("a.b=[unclosed") == {"a": {"b": "[unclosed"}}
    assert from_environment({"P__A__B_C": "true", "P__D": "1.5"}, "P__") == {
        "a": {"b_c": True}, "d": 1.5}


def test_deep_merge_replaces_anything_but_mappings() -> None:
    """Nested mappings merge key by key; lists and scalars replace."""
    assert deep_merge({"a": {"b": 1, "c": [1]}}, {"a": {"c": [2]}}) == {"a": {"b": 1, "c": [2]}}
    assert deep_merge({"a": {"b": 1}}, {"a": 5}) == {"a": 5}


@pytest.mark.parametrize(("assignment", "expected"), [
    ("server.port", "Invalid --set 'server.port': expected section.key=value"),
    ("=5", "Invalid --set '=5': expected section.key=value"),
    ("..=5", "Invalid --set '..=5': expected section.key=value"),
])
def test_bad_assignments_are_refused(assignment: str, expected: str) -> None:
    """A --set without a key or without '=' says what form is expected."""
    with pytest.raises(SettingsError) as caught:
        parse_assignment(assignment)
    assert str(caught.value) == expected


def test_bad_sources_name_the_file_or_variable(tmp_path: Path) -> None:
    """Broken YAML, a non-mapping file, a missing file and an empty variable name are named."""
    broken, listed = tmp_path / "broken.yaml", tmp_path / "list.yaml"
    broken.write_text("a: [unclosed\n")
    listed.write_text("- a\n")
    with pytest.raises(SettingsError, match=f"Invalid YAML in {broken}"):
        load_sources({}, [broken])
    with pytest.raises(SettingsError, match="expected a mapping at the top level"):
        load_sources({}, [listed])
    with pytest.raises(SettingsError, match=f"Cannot read {tmp_path / 'absent.yaml'}"):
        load_sources({}, [tmp_path / "absent.yaml"])
    with pytest.raises(SettingsError, match="Invalid environment variable 'P__'"):
        from_environment({"P__": "1"}, "P__")


def test_the_bot_reads_its_file_through_the_same_loader(tmp_path: Path) -> None:
    """The bot's file and HEARTH_AI__ variables merge the same way; problems are ConfigErrors."""
    config_file = tmp_path / "bot.yaml"
    config_file.write_text("streaming: {max_body_bytes: 5000}\nmodel: {default: gpt-4o}\n")
    config = load_config(config_file, {"HEARTH_AI__MODEL__DEFAULT": "gpt-4o-mini"})
    assert (config.streaming.max_body_bytes, config.model.default) == (5000, "gpt-4o-mini")
    config_file.write_text("- a\n")
    with pytest.raises(ConfigError, match="expected a mapping at the top level"):
        load_config(config_file, {})
