"""The package is laid out by concept: no import cycles, no module past ~400 lines, and
``import juggler`` needs none of the command line's libraries."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import juggler

ROOT = Path(juggler.__file__).parent
MAX_LINES = 400


def _modules() -> dict[str, Path]:
    out = {}
    for path in ROOT.rglob("*.py"):
        parts = list(path.relative_to(ROOT.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        out[".".join(parts)] = path
    return out


def _imports(name: str, path: Path, known: set[str]) -> set[str]:
    """Every juggler module ``name`` imports, function-level and ``TYPE_CHECKING`` imports
    included: they hide a cycle between two modules rather than remove it."""
    tree = ast.parse(path.read_text())
    package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
    found: set[str] = set()

    def visit(node: ast.AST) -> None:
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")
                anchor = anchor[: len(anchor) - (node.level - 1)]
                base = ".".join([*anchor, *([base] if base else [])])
            found.add(base)
            found.update(f"{base}.{alias.name}" for alias in node.names)
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(tree)
    return {m for m in found if m in known and m != name}


def test_no_module_imports_itself_back_through_a_cycle():
    modules = _modules()
    graph = {name: _imports(name, path, set(modules)) for name, path in modules.items()}
    cycles: list[list[str]] = []
    state: dict[str, int] = {}
    stack: list[str] = []

    def walk(node: str) -> None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                cycles.append([*stack[stack.index(nxt) :], nxt])
            elif nxt not in state:
                walk(nxt)
        stack.pop()
        state[node] = 2

    for name in sorted(graph):
        if name not in state:
            walk(name)
    assert cycles == []


def test_no_module_is_longer_than_the_limit():
    import langchain_juggler
    import llamaindex_juggler

    paths = {n: p for n, p in _modules().items()}
    for package in (langchain_juggler, llamaindex_juggler):
        for path in Path(package.__file__).parent.glob("*.py"):
            paths[f"{package.__name__}.{path.stem}"] = path
    long = {n: len(p.read_text().splitlines()) for n, p in paths.items()}
    assert {n: lines for n, lines in long.items() if lines > MAX_LINES} == {}


_BLOCK_CLI_LIBRARIES = """
import importlib.abc, sys
class Block(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path, target=None):
        if name.split(".")[0] in {"rich", "typer", "yaml", "click"}:
            raise ImportError(f"{name} is not installed (blocked by the test)")
        return None
sys.meta_path.insert(0, Block())
import juggler, juggler.testing
j = juggler.Juggler(["fake-a/m"], providers=juggler.testing.FakeProvider("fake-a").config(), env={})
print(j.chat("hi").provider)
"""


def test_import_juggler_works_without_rich_typer_or_yaml():
    done = subprocess.run(
        [sys.executable, "-c", _BLOCK_CLI_LIBRARIES], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "fake-a"


def test_no_library_module_imports_the_command_line_libraries_on_import():
    """Outside ``juggler.cli`` they may only be imported lazily (a YAML config file needs
    pyyaml when it is read, not when juggler is imported)."""
    offenders = []
    for name, path in _modules().items():
        if name.startswith("juggler.cli"):
            continue
        for node in ast.parse(path.read_text()).body:
            if isinstance(node, ast.Import | ast.ImportFrom):
                names = [a.name for a in node.names] if isinstance(node, ast.Import) else []
                names.append(getattr(node, "module", None) or "")
                if any(n.split(".")[0] in {"rich", "typer", "yaml", "click"} for n in names):
                    offenders.append(name)
    assert offenders == []
