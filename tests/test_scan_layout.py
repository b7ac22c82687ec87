"""The scanner package's shape: its modules import each other without a cycle, each imports on
its own, and none reaches into another's private names.

The rule: inside :mod:`imgtool.scan`, a name starting with ``_`` is private to its module. What
one module offers its siblings has a plain name (and what users may rely on is listed in the
module's ``__all__``)."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

import imgtool.scan

PACKAGE = Path(imgtool.scan.__file__).parent
MODULES = sorted(p.stem for p in PACKAGE.glob("*.py") if p.stem != "__init__")
#: The pipeline order the package docstring and the README give: each module may import only
#: modules before it (``geometry`` keeps the former names importable).
ORDER = ["quad", "median", "support", "candidates", "sides", "block", "score", "rules",
         "detection", "refine", "aspect", "warp", "enhance", "orientation", "geometry"]


def _imports(module: str) -> list[tuple[str, str | None, int]]:
    """Every import of the package's own modules anywhere in ``module`` (also inside
    functions): (sibling, imported name or None for a whole module, line)."""
    tree = ast.parse((PACKAGE / f"{module}.py").read_text())
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            if node.level:  # relative: from . import x, from .x import y
                base = node.module
                if base is None:
                    out += [(a.name, None, node.lineno) for a in node.names]
                else:
                    out += [(base, a.name, node.lineno) for a in node.names]
            elif node.module == "imgtool.scan":
                out += [(a.name if a.name in MODULES else "__init__",
                         None if a.name in MODULES else a.name, node.lineno)
                        for a in node.names]
            elif node.module and node.module.startswith("imgtool.scan."):
                sibling = node.module.split(".")[2]
                out += [(sibling, a.name, node.lineno) for a in node.names]
        elif isinstance(node, ast.Import):
            for a in node.names:
                if a.name == "imgtool.scan":
                    out.append(("__init__", None, node.lineno))
                elif a.name.startswith("imgtool.scan."):
                    out.append((a.name.split(".")[2], None, node.lineno))
    return out


def _graph() -> dict[str, set[str]]:
    return {m: {sibling for sibling, _, _ in _imports(m)} for m in MODULES}


def test_the_parser_sees_the_imports_it_must_judge():
    # a check that cannot fail is no check: the graph holds imports known to be there
    graph = _graph()
    assert "quad" in graph["candidates"] and "support" in graph["detection"]
    assert "block" in graph["detection"] and "quad" in graph["block"]


def test_no_import_cycle_between_the_scanner_modules():
    graph = _graph()
    assert all(m not in deps for m, deps in graph.items())
    assert not any("__init__" in deps for deps in graph.values()), \
        "a module imports the package itself (which imports the modules)"
    # Kahn's algorithm: what remains after peeling off modules without imports is a cycle
    remaining = {m: set(deps) & set(MODULES) for m, deps in graph.items()}
    while True:
        free = [m for m, deps in remaining.items() if not deps]
        if not free:
            break
        for m in free:
            del remaining[m]
        for deps in remaining.values():
            deps.difference_update(free)
    assert not remaining, f"import cycle among {sorted(remaining)}"


def test_each_module_imports_only_the_steps_before_it():
    assert sorted(ORDER) == MODULES, "place a new module in ORDER (and the package docstring)"
    graph = _graph()
    for i, module in enumerate(ORDER):
        later = graph[module] - set(ORDER[:i])
        assert not later, f"imgtool/scan/{module}.py imports {sorted(later)}, not before it"


@pytest.mark.parametrize("module", MODULES)
def test_no_module_imports_a_siblings_private_name(module):
    private = [(sibling, name, line) for sibling, name, line in _imports(module)
               if name is not None and name.startswith("_")]
    assert not private, f"imgtool/scan/{module}.py imports private names: {private}"


def test_each_module_imports_on_its_own():
    # each after the whole package is forgotten: no module may rely on another having been
    # imported first (one fresh interpreter for all: numpy and cv2 may stay loaded)
    code = (
        "import importlib, sys\n"
        "for name in sys.argv[1:]:\n"
        "    for loaded in [m for m in sys.modules if m.startswith('imgtool.scan')]:\n"
        "        del sys.modules[loaded]\n"
        "    importlib.import_module(name)\n"
    )
    done = subprocess.run([sys.executable, "-c", code, *(f"imgtool.scan.{m}" for m in MODULES)],
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-2000:]
