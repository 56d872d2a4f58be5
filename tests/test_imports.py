"""No monoceros module takes part in an import cycle, and the config package sits below the rest.

A cycle of module-level imports works, if at all, only in some import orders, and hiding one in
a function-local import only moves the failure to run time. Two checks: every module imports in
a fresh interpreter on its own (which breaks a cycle that relies on import order), and a static
walk of the module-level imports finds no cycle at all (which also catches cycles that happen to
import in every order today).
"""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from pathlib import Path

import pytest

import monoceros

PACKAGE_DIR = Path(monoceros.__file__).parent
# Running monoceros.__main__ runs the server; it is covered by every e2e test instead.
NOT_IMPORTABLE_ALONE = {"monoceros.__main__"}
# What the config package may import besides itself: it must load before the rest of
# monoceros and without the C++ extension (``monoceros`` itself is for ``__version__``).
CONFIG_MAY_IMPORT = {"monoceros", "monoceros.inotify"}


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE_DIR.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def python_files(top: Path) -> list[Path]:
    """Every .py file under ``top``, following symlinks (an install may link to the sources)."""
    return sorted(
        Path(directory, file)
        for directory, _, files in os.walk(top, followlinks=True)
        for file in files
        if file.endswith(".py")
    )


MODULES = {module_name(path): path for path in python_files(PACKAGE_DIR)}


def is_type_checking_block(node: ast.stmt) -> bool:
    return isinstance(node, ast.If) and ast.unparse(node.test) in (
        "TYPE_CHECKING",
        "typing.TYPE_CHECKING",
    )


def import_time_statements(body: list[ast.stmt]):
    """The statements run when the module is imported: not function bodies, and not the
    ``if TYPE_CHECKING:`` imports (annotations only)."""
    for node in body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            continue
        yield node
        if is_type_checking_block(node):
            yield from import_time_statements(node.orelse)
            continue
        for field in ("body", "orelse", "finalbody"):  # if, try, with, for, class bodies
            yield from import_time_statements(getattr(node, field, []))
        for handler in getattr(node, "handlers", []):
            yield from import_time_statements(handler.body)


def ancestors(name: str) -> set[str]:
    parts = name.split(".")
    return {".".join(parts[:i]) for i in range(1, len(parts))}


def imported_modules(name: str) -> set[str]:
    """The monoceros modules whose code importing ``name`` runs (or needs to have run).

    ``import a.b.c`` and ``from a.b.c import x`` run a, a.b and a.b.c, and a.b.c.x when x is a
    submodule. The packages enclosing ``name`` are already being imported when ``name`` is, so
    they count only when names are taken from them (``from monoceros import __version__``).
    """
    path = MODULES[name]
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    enclosing = ancestors(name)
    found: set[str] = set()
    for node in import_time_statements(ast.parse(path.read_text(), filename=str(path)).body):
        if isinstance(node, ast.Import):
            for alias in node.names:
                found |= {alias.name} | (ancestors(alias.name) - enclosing)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:  # relative: from . import x, from ..m import y
                prefix = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                base = f"{prefix}.{base}" if base else prefix
            submodules = {f"{base}.{alias.name}" for alias in node.names} & MODULES.keys()
            found |= submodules | ((ancestors(base) | {base}) - enclosing)
            if len(submodules) < len(node.names):  # names are taken from `base` itself
                found.add(base)
    found.discard(name)
    return found & MODULES.keys()


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import cycle as [a, b, ..., a], or None."""
    state: dict[str, str] = {}  # "open" while on the current path, then "done"
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = "open"
        path.append(node)
        for target in sorted(graph[node]):
            if state.get(target) == "open":
                return path[path.index(target) :] + [target]
            if target not in state:
                cycle = visit(target)
                if cycle:
                    return cycle
        path.pop()
        state[node] = "done"
        return None

    for node in sorted(graph):
        if node not in state:
            cycle = visit(node)
            if cycle:
                return cycle
    return None


IMPORT_GRAPH = {name: imported_modules(name) for name in MODULES}


def run_python(code: str, cwd: Path) -> subprocess.CompletedProcess:
    """``python -c code`` in a fresh interpreter that imports the monoceros under test."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(
        filter(None, [str(PACKAGE_DIR.parent), env.get("PYTHONPATH")])
    )
    return subprocess.run(
        [sys.executable, "-c", code], cwd=cwd, env=env, capture_output=True, text=True, timeout=60
    )


def test_the_modules_were_found():
    assert {"monoceros.config", "monoceros.config.table", "monoceros.hooks"} <= MODULES.keys()
    assert "monoceros.config.table" in IMPORT_GRAPH["monoceros.config.model"]
    assert "monoceros.config" in IMPORT_GRAPH["monoceros.hooks"]


def test_module_level_imports_have_no_cycle():
    cycle = find_cycle(IMPORT_GRAPH)
    assert cycle is None, "import cycle: " + " -> ".join(cycle)


def test_find_cycle_finds_one():
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert find_cycle(graph) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set()}) is None


def test_the_config_package_imports_nothing_above_it():
    outside = {
        f"{name} imports {target}"
        for name, targets in IMPORT_GRAPH.items()
        if name == "monoceros.config" or name.startswith("monoceros.config.")
        for target in targets
        if not target.startswith("monoceros.config") and target not in CONFIG_MAY_IMPORT
    }
    assert not outside


@pytest.mark.parametrize("name", sorted(MODULES.keys() - NOT_IMPORTABLE_ALONE))
def test_each_module_imports_first(name, tmp_path):
    result = run_python(f"import {name}", tmp_path)
    assert result.returncode == 0, result.stderr


def test_config_loads_without_the_core(tmp_path):
    code = (
        "import sys, monoceros.config\n"
        "monoceros.config.load_config(['app:app'], {}, '.')\n"
        "assert 'monoceros._core' not in sys.modules, 'monoceros._core was imported'\n"
    )
    result = run_python(code, tmp_path)
    assert result.returncode == 0, result.stderr
