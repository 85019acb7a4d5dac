"""Synapse internals are imported only by synapse_compat, and each it names has a contract test.

Read from the source with ``ast`` (imports inside functions count too), so a new import of an
internal anywhere else fails here with its file and line.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

from hearth.render import PROJECT_DIR
from hearth.synapse_compat.registry import INTERNALS

# The parts that run inside Synapse.
PART_DIRS = (PROJECT_DIR / "synapse_modules", PROJECT_DIR / "media_repo")
COMPAT_DIR = PROJECT_DIR / "hearth" / "synapse_compat"
# Synapse's documented module API: what a module may import directly.
PUBLIC = ("synapse.module_api", "synapse.api.errors", "synapse.types", "synapse.events")
# Not Synapse, but only there to re-implement or reach into Synapse.
ALSO_INTERNAL = ("bcrypt", "twisted.web")
CONTRACT_TESTS = (
    PROJECT_DIR / "tests" / "unit" / "hearth" / "synapse_compat" / "test_contracts.py",
    PROJECT_DIR / "tests" / "integration" / "hearth" / "test_synapse_compat.py",
)


def _within(name: str, packages: tuple[str, ...]) -> bool:
    return any(name == package or name.startswith(package + ".") for package in packages)


def _imported(path: Path) -> list[tuple[str, int]]:
    found: list[tuple[str, int]] = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found.extend((alias.name, node.lineno) for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.append((node.module, node.lineno))
    return found


def test_synapse_internals_imported_only_by_the_compat_package() -> None:
    """Outside synapse_compat/, only the public module API of Synapse is imported."""
    offending = [
        f"{path.relative_to(PROJECT_DIR)}:{line}: {name}"
        for folder in PART_DIRS for path in sorted(folder.rglob("*.py"))
        for name, line in _imported(path)
        if (_within(name, ("synapse",)) and not _within(name, PUBLIC))
        or _within(name, ALSO_INTERNAL)
    ]
    assert offending == [], "import these through hearth.synapse_compat"


def test_registry_every_internal_has_a_contract_test() -> None:
    """Each named internal has a ``test_<name>_...`` in the contract tests."""
    tests = "\n".join(path.read_text() for path in CONTRACT_TESTS)
    missing = [i.name for i in INTERNALS if not re.search(rf"def test_{i.name}_\w+", tests)]
    assert missing == []


def test_registry_entries_name_real_files() -> None:
    """Each entry names the Synapse file it comes from and the files of ours that use it."""
    import synapse

    synapse_root = Path(synapse.__file__).parent.parent
    for internal in INTERNALS:
        assert (synapse_root / internal.source).is_file(), internal.source
        for user in internal.used_by:
            assert (PROJECT_DIR / user).is_file(), f"{internal.name}: {user}"
