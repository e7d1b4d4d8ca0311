"""Prints the figures that say how the package's modules hang together, for a change to state its
before and after: imports of the package's own modules made inside functions, modules outside the
Spark job's wing that import it, import cycles (counting the imports inside functions), and places a
table format's name is compared as a string.

    python scripts/house.py [--src src/synth_spark]
"""

from __future__ import annotations

import argparse
import ast
from collections.abc import Iterator
from pathlib import Path

FORMAT_NAMES = {"parquet", "delta", "csv"}


def module_name(path: Path, package: Path) -> str:
    parts = path.relative_to(package.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _resolved(node: ast.ImportFrom, importer: str, is_package: bool) -> str | None:
    if not node.level:
        return node.module
    base = importer.split(".")[: len(importer.split(".")) - node.level + (1 if is_package else 0)]
    return ".".join([*base, *([node.module] if node.module else [])])


def own_imports(path: Path, package: Path) -> Iterator[tuple[str, bool, int]]:
    """(module imported, whether inside a function, line) for each import of the package's modules."""
    root = package.name
    importer = module_name(path, package)
    tree = ast.parse(path.read_text())
    inside: set[int] = set()
    for fn in ast.walk(tree):
        if isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef)):
            inside |= {id(n) for n in ast.walk(fn) if n is not fn}
    for node in ast.walk(tree):
        names: list[str] = []
        if isinstance(node, ast.ImportFrom):
            base = _resolved(node, importer, path.name == "__init__.py")
            if base and base.split(".")[0] == root:
                names = [base, *(f"{base}.{a.name}" for a in node.names)]
        elif isinstance(node, ast.Import):
            names = [a.name for a in node.names if a.name.split(".")[0] == root]
        for name in names:
            yield name, id(node) in inside, node.lineno


def import_graph(package: Path, with_functions: bool = True) -> dict[str, set[str]]:
    modules = {module_name(p, package): p for p in package.rglob("*.py")}
    graph: dict[str, set[str]] = {}
    for m, p in modules.items():
        targets = {i for i, in_fn, _ in own_imports(p, package) if with_functions or not in_fn}
        # importing a.b.c loads a.b first (unless a.b is the importer's own package)
        targets |= {".".join(i.split(".")[:k]) for i in set(targets) for k in range(2, i.count(".") + 1)}
        own = {".".join(m.split(".")[:k]) for k in range(1, m.count(".") + 1)}
        graph[m] = (targets & set(modules)) - own - {m}
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected groups of more than one module (Tarjan's algorithm)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            group = []
            while True:
                w = stack.pop()
                on.discard(w)
                group.append(w)
                if w == v:
                    break
            if len(group) > 1:
                found.append(sorted(group))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def _names_a_format(node: ast.AST) -> bool:
    if isinstance(node, ast.Constant):
        return node.value in FORMAT_NAMES
    if isinstance(node, (ast.Tuple, ast.List, ast.Set)):
        return any(_names_a_format(e) for e in node.elts)
    return False


def format_comparisons(package: Path) -> list[str]:
    out = []
    for p in sorted(package.rglob("*.py")):
        for node in ast.walk(ast.parse(p.read_text())):
            if isinstance(node, ast.Compare) and any(
                _names_a_format(n) for n in [node.left, *node.comparators]
            ):
                out.append(f"{p.relative_to(package.parent)}:{node.lineno}")
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--src", type=Path, default=Path(__file__).parents[1] / "src" / "synth_spark")
    package = parser.parse_args().src.resolve()
    in_functions = [
        (p, i, line)
        for p in sorted(package.rglob("*.py"))
        for i, in_fn, line in own_imports(p, package)
        if in_fn and i.count(".") >= 1
    ]
    by_module: dict[str, int] = {}
    seen = set()
    for p, _, line in in_functions:
        if (p, line) not in seen:
            seen.add((p, line))
            key = str(p.relative_to(package))
            by_module[key] = by_module.get(key, 0) + 1
    job = f"{package.name}.job"
    outside = sorted(
        m
        for m, targets in import_graph(package).items()
        if not m.startswith(job) and any(t == job or t.startswith(job + ".") for t in targets)
    )
    found = cycles(import_graph(package))
    compared = format_comparisons(package)
    print(
        f"imports of own modules inside functions: {len(seen)}"
        f" ({', '.join(f'{k} {v}' for k, v in sorted(by_module.items(), key=lambda kv: -kv[1])[:6])})"
    )
    print(f"modules outside job/ importing job/: {len(outside)} ({', '.join(outside)})")
    print(f"import cycles, imports inside functions counted: {len(found)}")
    for group in found:
        print("  " + " <-> ".join(group))
    print(
        f"places a format name is compared as a string: {len(compared)} in"
        f" {len({c.split(':')[0] for c in compared})} files"
    )


if __name__ == "__main__":
    main()
