"""Every HTTP path our modules register is in the OpenAPI document, and nothing else is.

The registered paths are read from the source (each ``register_web_resource`` call and the
constant it passes), so a module that adds a resource without documenting it fails here.
"""

from __future__ import annotations

import ast
import importlib
from pathlib import Path

from hearth.render import PROJECT_DIR
from hearth.synapse_modules.api_docs.document import build_document

# The parts that run in Synapse and register resources.
PART_DIRS = (PROJECT_DIR / "synapse_modules", PROJECT_DIR / "media_repo")
# Registered paths that add no endpoint of ours, and why.
NOT_ENDPOINTS = {
    "/_matrix": "the front door (hearth/synapse_compat/front_door.py) stands in for Synapse's "
                "own /_matrix tree; the endpoints below it are Synapse's",
}


def _module_name(path: Path) -> str:
    parts = path.relative_to(PROJECT_DIR).with_suffix("").parts
    return "hearth." + ".".join(parts)


def _resolve(node: ast.expr, path: Path) -> str:
    """The string a ``register_web_resource`` call passes: a literal or a module's constant."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.Name):
        value = getattr(importlib.import_module(_module_name(path)), node.id, None)
        if isinstance(value, str):
            return value
    raise AssertionError(f"{path.relative_to(PROJECT_DIR)}:{node.lineno}: pass "
                         "register_web_resource a literal path or a module-level constant")


def registered_paths() -> dict[str, str]:
    """Each path passed to ``register_web_resource`` in the parts, with its call site."""
    found: dict[str, str] = {}
    for path in sorted(p for folder in PART_DIRS for p in folder.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) \
                    and node.func.attr == "register_web_resource":
                found[_resolve(node.args[0], path)] = \
                    f"{path.relative_to(PROJECT_DIR)}:{node.lineno}"
    return found


def test_the_scan_finds_the_known_registrations() -> None:
    """The scan sees the modules' resources (so an empty result cannot pass the test below)."""
    paths = registered_paths()
    assert "/_synapse/client/hearth/v1/admin/roles" in paths
    assert "/_synapse/client/hearth/mfa" in paths
    assert "/_synapse/client/hearth/v1/openapi.json" in paths
    assert "/_synapse/client/hearth/v1/media" in paths


def test_every_registered_path_is_documented() -> None:
    """Each registered prefix has at least one documented operation at or below it."""
    documented = list(build_document()["paths"])
    missing = [f"{prefix} ({where})" for prefix, where in registered_paths().items()
               if prefix not in NOT_ENDPOINTS
               and not any(p == prefix or p.startswith(prefix + "/") for p in documented)]
    assert missing == [], "add these to synapse_modules/api_docs/document.py"


def test_every_documented_path_is_registered() -> None:
    """No documented path lies outside what the modules register (no stale entries)."""
    prefixes = [p for p in registered_paths() if p not in NOT_ENDPOINTS]
    stale = [path for path in build_document()["paths"]
             if not any(path == p or path.startswith(p + "/") for p in prefixes)]
    assert stale == []
