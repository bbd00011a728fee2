"""The layers of codequorum, checked from the source: no import runs up a layer, none closes a
circle. Imports under `if TYPE_CHECKING:` and inside functions count like any other: they show
the same dependency.

Layers, lowest first (docs/architecture.md draws them):
  0 vocabulary   the data every layer speaks; imports nothing of ours
  1 config       the typed settings
  2 services     sandbox, testing, ranking, routing, stores, models, post-processing
  3 engine       core/: context, member, memo, resilience, scheduler, runtime, registry, engine,
                 and the protocols the engine calls plugins through
  4 plugins      built-in backends, strategies, checks, languages, and their public protocols
  5 front ends   server, cli, bench, fix, distill
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

import codequorum

SOURCE = Path(codequorum.__file__).parent
VOCABULARY, CONFIG, SERVICES, ENGINE, PLUGINS, FRONT_ENDS = range(6)

# The longest matching prefix decides a module's layer.
LAYERS = {
    "codequorum": VOCABULARY,  # the package itself holds only __version__
    "codequorum.vocabulary": VOCABULARY,
    "codequorum.config": CONFIG,
    "codequorum.sandbox": SERVICES,
    "codequorum.testing": SERVICES,
    "codequorum.ranking": SERVICES,
    "codequorum.routing": SERVICES,
    "codequorum.stores": SERVICES,
    "codequorum.models": SERVICES,
    "codequorum.core.postprocess": SERVICES,
    "codequorum.core": ENGINE,
    "codequorum.plugins": PLUGINS,
    "codequorum.server": FRONT_ENDS,
    "codequorum.cli": FRONT_ENDS,
    "codequorum.bench": FRONT_ENDS,
    "codequorum.fix": FRONT_ENDS,
    "codequorum.distill": FRONT_ENDS,
    "codequorum.__main__": FRONT_ENDS,
}

# Imports that still break the layering, as "importer -> imported". Each one is a debt: remove
# it from here when it is fixed. A new violation fails the test.
KNOWN_VIOLATIONS: set[str] = set()


@dataclass(frozen=True)
class Import:
    importer: str
    imported: str
    line: int

    @property
    def key(self) -> str:
        return f"{self.importer} -> {self.imported}"

    def __str__(self) -> str:
        return f"{self.importer} (line {self.line}) imports {self.imported}"


def module_files() -> dict[str, Path]:
    modules = {}
    for path in SOURCE.rglob("*.py"):
        parts = list(path.relative_to(SOURCE.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        modules[".".join(parts)] = path
    return modules


def imports_of(module: str, path: Path, modules: set[str]) -> list[Import]:
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = _absolute(node, package)
            # `from package import module` imports the module; `from module import name` the module
            targets = [f"{base}.{a.name}" if f"{base}.{a.name}" in modules else base for a in node.names]
        else:
            continue
        found += [Import(module, target, node.lineno) for target in dict.fromkeys(targets)
                  if target == "codequorum" or target.startswith("codequorum.")]
    return found


def _absolute(node: ast.ImportFrom, package: str) -> str:
    if not node.level:
        return node.module or ""
    parts = package.split(".")
    base = parts[: len(parts) - (node.level - 1)]
    return ".".join(base + ([node.module] if node.module else []))


def layer_of(module: str) -> int:
    for prefix in sorted(LAYERS, key=len, reverse=True):
        if module == prefix or module.startswith(prefix + "."):
            return LAYERS[prefix]
    raise AssertionError(f"{module} has no layer: add its package to LAYERS in {__file__}")


def all_imports() -> list[Import]:
    files = module_files()
    return [imp for module, path in sorted(files.items()) for imp in imports_of(module, path, set(files))]


def circles(imports: list[Import]) -> list[list[str]]:
    """The strongly connected groups of more than one module (Tarjan's algorithm)."""
    graph: dict[str, set[str]] = {}
    for imp in imports:
        if imp.importer != imp.imported:
            graph.setdefault(imp.importer, set()).add(imp.imported)
            graph.setdefault(imp.imported, set())
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    groups: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for successor in sorted(graph[node]):
            if successor not in index:
                visit(successor)
                low[node] = min(low[node], low[successor])
            elif successor in stack:
                low[node] = min(low[node], index[successor])
        if low[node] == index[node]:
            group = []
            while (member := stack.pop()) != node:
                group.append(member)
            group.append(node)
            if len(group) > 1:
                groups.append(sorted(group))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return groups


def test_every_module_has_a_layer() -> None:
    for module in module_files():
        layer_of(module)


def test_no_import_runs_up_a_layer() -> None:
    upward = [imp for imp in all_imports()
              if layer_of(imp.imported) > layer_of(imp.importer) and imp.key not in KNOWN_VIOLATIONS]
    assert not upward, "imports that run up the layers:\n" + "\n".join(
        f"  {imp} (layer {layer_of(imp.importer)} -> {layer_of(imp.imported)})" for imp in upward)


def test_no_import_circle() -> None:
    imports = [imp for imp in all_imports() if imp.key not in KNOWN_VIOLATIONS]
    found = circles(imports)
    described = []
    for group in found:
        inside = [str(imp) for imp in imports if imp.importer in group and imp.imported in group]
        described.append("  circle of " + ", ".join(group) + ":\n" + "\n".join(f"    {i}" for i in inside))
    assert not found, "import circles:\n" + "\n".join(described)


STRATEGIES = "codequorum.plugins.strategies"


def test_no_strategy_imports_another() -> None:
    """What strategies share is the toolkit (core/toolkit.py); a strategy file is its recipe."""
    strategy_modules = [m for m in module_files() if m.startswith(STRATEGIES + ".")]
    crossing = [imp for imp in all_imports() if imp.importer in strategy_modules
                and imp.imported.startswith(STRATEGIES + ".") and imp.imported != imp.importer]
    assert len(strategy_modules) >= 9
    assert not crossing, "strategies importing strategies:\n" + "\n".join(f"  {imp}" for imp in crossing)


def test_known_violations_still_exist() -> None:
    """A fixed violation must leave KNOWN_VIOLATIONS, so that it cannot come back unnoticed."""
    present = {imp.key for imp in all_imports()}
    assert not KNOWN_VIOLATIONS - present, f"fixed, remove from KNOWN_VIOLATIONS: {KNOWN_VIOLATIONS - present}"


def test_the_checker_sees_an_upward_import_and_a_circle() -> None:
    imports = [Import("codequorum.core.engine", "codequorum.server.session", 1),
               Import("codequorum.server.session", "codequorum.core.engine", 2)]
    assert layer_of(imports[0].imported) > layer_of(imports[0].importer)
    assert circles(imports) == [["codequorum.core.engine", "codequorum.server.session"]]
