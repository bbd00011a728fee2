"""One-bug mutants of correct Python code, for measuring how well `fix` repairs them.

Each operator rewrites one site of a function with `ast`: a comparison's boundary flipped
(`<` and `<=`, `>` and `>=`, `==` and `!=`), a range one short, an arithmetic operator swapped,
a call's first two arguments swapped, or an `else`/`elif` branch dropped. Sites are counted in
`ast.walk` order, so (operator, site) names one mutant reproducibly.
"""

from __future__ import annotations

import ast
from collections.abc import Callable, Iterator
from dataclasses import dataclass

_FLIPPED_COMPARISONS: dict[type[ast.cmpop], type[ast.cmpop]] = {
    ast.Lt: ast.LtE, ast.LtE: ast.Lt, ast.Gt: ast.GtE, ast.GtE: ast.Gt, ast.Eq: ast.NotEq,
    ast.NotEq: ast.Eq,
}
_SWAPPED_OPERATORS: dict[type[ast.operator], type[ast.operator]] = {
    ast.Add: ast.Sub, ast.Sub: ast.Add, ast.Mult: ast.Add, ast.FloorDiv: ast.Mult,
    ast.Div: ast.Mult, ast.Mod: ast.FloorDiv,
}


@dataclass(frozen=True)
class Mutant:
    operator: str
    site: int
    source: str  # the whole module, unparsed


def _comparison_sites(tree: ast.AST) -> Iterator[Callable[[], None]]:
    for node in ast.walk(tree):
        if isinstance(node, ast.Compare):
            for index, op in enumerate(node.ops):
                if type(op) in _FLIPPED_COMPARISONS:
                    yield _setter(node.ops, index, _FLIPPED_COMPARISONS[type(op)]())


def _range_sites(tree: ast.AST) -> Iterator[Callable[[], None]]:
    for node in ast.walk(tree):
        if (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "range"
                and 1 <= len(node.args) <= 2):
            stop = len(node.args) - 1
            shorter = ast.BinOp(node.args[stop], ast.Sub(), ast.Constant(1))
            yield _setter(node.args, stop, shorter)


def _arithmetic_sites(tree: ast.AST) -> Iterator[Callable[[], None]]:
    for node in ast.walk(tree):
        if isinstance(node, ast.BinOp | ast.AugAssign) and type(node.op) in _SWAPPED_OPERATORS:
            yield _attribute_setter(node, "op", _SWAPPED_OPERATORS[type(node.op)]())


def _argument_sites(tree: ast.AST) -> Iterator[Callable[[], None]]:
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and len(node.args) >= 2 and not any(
                isinstance(a, ast.Starred) for a in node.args[:2]):
            swapped = [node.args[1], node.args[0], *node.args[2:]]
            yield _attribute_setter(node, "args", swapped)


def _branch_sites(tree: ast.AST) -> Iterator[Callable[[], None]]:
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and node.orelse:
            yield _attribute_setter(node, "orelse", [])


OPERATORS: dict[str, Callable[[ast.AST], Iterator[Callable[[], None]]]] = {
    "flip-comparison": _comparison_sites,
    "off-by-one-range": _range_sites,
    "wrong-arithmetic": _arithmetic_sites,
    "swapped-arguments": _argument_sites,
    "dropped-branch": _branch_sites,
}


def _setter(items: list, index: int, value: object) -> Callable[[], None]:  # type: ignore[type-arg]
    def apply() -> None:
        items[index] = value
    return apply


def _attribute_setter(node: ast.AST, name: str, value: object) -> Callable[[], None]:
    def apply() -> None:
        setattr(node, name, value)
    return apply


def mutants(source: str, function: str | None = None) -> list[Mutant]:
    """Every one-site mutant of `source` (only inside `function` when given) that still parses
    and differs from the original."""
    original = ast.unparse(ast.parse(source))
    found = []
    for operator, sites in OPERATORS.items():
        count = sum(1 for _ in sites(_scope(ast.parse(source), function)))
        for site in range(count):
            tree = ast.parse(source)
            mutate = list(sites(_scope(tree, function)))[site]
            mutate()
            text = ast.unparse(ast.fix_missing_locations(tree))
            if text != original:
                found.append(Mutant(operator, site, text + "\n"))
    return found


def _scope(tree: ast.Module, function: str | None) -> ast.AST:
    if function is None:
        return tree
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.name == function:
            return node
    return ast.Module(body=[], type_ignores=[])


