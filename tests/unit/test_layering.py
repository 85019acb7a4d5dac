"""The import structure: no cycles, no part reaching into another, nothing importing tests.

Read from the source with ``ast`` (imports inside functions count too), so a new import that
breaks the layering fails here, with the offending file and line, before it lands.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from hearth.render import PROJECT_DIR

# Folder in the repository -> the import name its files have.
ROOTS = {
    "hearth": "hearth",
    "synapse_modules": "hearth.synapse_modules",
    "ai_bot": "hearth.ai_bot",
    "media_repo": "hearth.media_repo",
    "devtools": "devtools",
    "bench": "bench",
}
# The product's parts: each may import only itself and the neutral modules.
PARTS = ("hearth.synapse_modules", "hearth.ai_bot", "hearth.media_repo")
# Neutral ground, shared by the parts and the command line; they import only each other.
NEUTRAL = ("hearth.configuration", "hearth.private_files", "hearth.synapse_admin",
           "hearth.owned_tables", "hearth.text_checks", "hearth.synapse_compat")
# One part's library API that the others read: the one policy (DESIGN principle 2). Only these
# modules of it, which have no Synapse imports and reach no further into the part.
PUBLIC_APIS = ("hearth.synapse_modules.access_policy",
               "hearth.synapse_modules.access_policy.runtime")
LINKS = {"synapse_modules", "ai_bot", "media_repo"}


@dataclass(frozen=True)
class Import:
    source: str
    target: str
    where: str


def _module_name(path: Path) -> str:
    relative = path.relative_to(PROJECT_DIR)
    root, *rest = relative.with_suffix("").parts
    if rest and rest[-1] == "__init__":
        rest = rest[:-1]
    return ".".join([ROOTS[root], *rest])


def _files() -> Iterator[Path]:
    for folder in ROOTS:
        for path in sorted((PROJECT_DIR / folder).rglob("*.py")):
            inside = path.relative_to(PROJECT_DIR / folder).parts
            if folder == "hearth" and inside[0] in LINKS:
                continue  # the linked folders are read under their own names
            yield path


def _resolve(module: str, is_package: bool, node: ast.ImportFrom) -> str:
    if node.level == 0:
        return node.module or ""
    base = module.split(".") if is_package else module.split(".")[:-1]
    base = base[: len(base) - (node.level - 1)]
    return ".".join([*base, node.module] if node.module else base)


def _imports() -> list[Import]:
    known = {_module_name(path) for path in _files()}
    found: list[Import] = []
    for path in _files():
        module = _module_name(path)
        tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
        for node in ast.walk(tree):
            where = f"{path.relative_to(PROJECT_DIR)}:{getattr(node, 'lineno', 0)}"
            if isinstance(node, ast.Import):
                found += [Import(module, alias.name, where) for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                target = _resolve(module, path.name == "__init__.py", node)
                for alias in node.names:
                    submodule = f"{target}.{alias.name}"
                    found.append(Import(module, submodule if submodule in known else target,
                                        where))
    return found


def _within(name: str, prefixes: tuple[str, ...] | str) -> bool:
    options = (prefixes,) if isinstance(prefixes, str) else prefixes
    return any(name == p or name.startswith(p + ".") for p in options)


def _ours(name: str) -> bool:
    return _within(name, (*ROOTS.values(), "tests"))


def test_product_code_never_imports_tests_bench_or_devtools() -> None:
    """The installed package stands alone: the test and bench tooling is not shipped."""
    bad = [i for i in _imports() if _within(i.source, "hearth")
           and _within(i.target, ("tests", "bench", "devtools"))]
    assert bad == []


def test_tools_never_import_the_tests() -> None:
    """The bench and the dev tools use shared helpers in devtools/, never tests/."""
    bad = [i for i in _imports() if _within(i.source, ("bench", "devtools"))
           and _within(i.target, "tests")]
    assert bad == []


def test_parts_import_only_themselves_and_neutral_modules() -> None:
    """Synapse modules, the bot and the media repository never reach into each other or
    into the command line; what they share lives in the neutral modules (and the policy's
    library API)."""
    bad = []
    for i in _imports():
        part = next((p for p in PARTS if _within(i.source, p)), None)
        if part is None or not _within(i.target, "hearth"):
            continue
        if not (_within(i.target, part) or _within(i.target, NEUTRAL)
                or i.target in PUBLIC_APIS):
            bad.append(i)
    assert bad == []


def test_neutral_modules_import_only_neutral_modules() -> None:
    """What the parts and the command line share depends on neither of them."""
    bad = [i for i in _imports() if _within(i.source, NEUTRAL)
           and _within(i.target, "hearth") and not _within(i.target, NEUTRAL)]
    assert bad == []


def test_no_import_cycles() -> None:
    """No module imports, directly or through others, a module that imports it back."""
    graph: dict[str, set[str]] = {}
    for i in _imports():
        if _ours(i.target) and i.target != i.source:
            graph.setdefault(i.source, set()).add(i.target)
    cycles = _cycles(graph)
    assert cycles == [], "\n".join(" -> ".join(cycle) for cycle in cycles)


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in sorted(graph.get(node, ())):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_the_layering_check_sees_the_imports() -> None:
    """The checks above read real imports (guards against a reader that finds nothing)."""
    imports = _imports()
    assert any(i.source == "hearth.cli" and i.target.startswith("hearth.") for i in imports)
    assert any(_within(i.source, "hearth.synapse_modules")
               and _within(i.target, "hearth.synapse_modules") for i in imports)
    assert _cycles({"a": {"b"}, "b": {"a"}, "c": {"a"}}) == [["a", "b"]]
