"""The shape of the package: the simulation wing (and the vocabulary, config, manifest and publish
pieces) import without Spark, and no module imports another that imports it back."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import synth_spark

PACKAGE = Path(synth_spark.__file__).parent
WITHOUT_SPARK = ["synth_spark.vocabulary", "synth_spark.config", "synth_spark.manifest", "synth_spark.failures",
                 *(f"synth_spark.simulation.{p.stem}" for p in sorted((PACKAGE / "simulation").glob("*.py"))),
                 *(f"synth_spark.publish.{p.stem}" for p in sorted((PACKAGE / "publish").glob("*.py")))]


def test_the_simulation_imports_without_pyspark():
    code = ("import sys; sys.modules['pyspark'] = None\n"  # any import of pyspark now fails
            + "".join(f"import {m}\n" for m in WITHOUT_SPARK))
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr


def _module(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path) -> set[str]:
    """The synth_spark modules a module imports when it is loaded (not those imported in functions)."""
    out = set()
    for node in ast.parse(path.read_text()).body:
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("synth_spark"):
            out.add(node.module)
            out |= {f"{node.module}.{a.name}" for a in node.names}
        elif isinstance(node, ast.Import):
            out |= {a.name for a in node.names if a.name.startswith("synth_spark")}
    return out


def test_no_import_cycles():
    modules = {_module(p): p for p in PACKAGE.rglob("*.py")}
    graph = {m: {i for i in _imports(p) if i in modules and i != m} for m, p in modules.items()}
    for m in graph:  # importing a.b.c loads a.b first (unless a.b is the importer's own package)
        own = {".".join(m.split(".")[:k]) for k in range(1, m.count(".") + 1)}
        graph[m] |= {".".join(i.split(".")[:k]) for i in set(graph[m]) for k in range(2, i.count(".") + 1)} & set(modules)
        graph[m] -= own | {m}
    state: dict[str, int] = {}

    def visit(m: str, trail: list[str]) -> None:
        state[m] = 1
        for n in sorted(graph[m]):
            assert state.get(n) != 1, "import cycle: " + " -> ".join([*trail, m, n])
            if n not in state:
                visit(n, [*trail, m])
        state[m] = 2

    for m in sorted(graph):
        if m not in state:
            visit(m, [])


def test_no_module_is_a_warehouse():
    sizes = {str(p.relative_to(PACKAGE)): len(p.read_text().splitlines()) for p in PACKAGE.rglob("*.py")}
    assert max(sizes.values()) <= 420, sorted(sizes.items(), key=lambda kv: -kv[1])[:3]
