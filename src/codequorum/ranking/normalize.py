"""Normalised code: equal programs that differ only in layout, comments or local names
compare equal (AST-level for Python, token-level elsewhere)."""

from __future__ import annotations

import ast
import builtins

from codequorum.ranking.similarity import code_tokens

_BUILTINS = frozenset(dir(builtins))


def normalized_code(text: str, language: str | None = None) -> str:
    """A canonical form of `text`: AST with docstrings dropped and names renamed in order of
    first appearance (builtins and attributes kept), else whitespace-free tokens."""
    if language in (None, "python"):
        canonical = _python_canonical(text)
        if canonical is not None:
            return canonical
    return " ".join(code_tokens(text, language))


def _python_canonical(text: str) -> str | None:
    try:
        tree = ast.parse(text)
    except (SyntaxError, ValueError):
        return None
    tree = _Renamer().visit(_without_docstrings(tree))
    return ast.dump(tree, annotate_fields=False, include_attributes=False)


def _without_docstrings(tree: ast.AST) -> ast.AST:
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        if isinstance(body, list) and body and _is_docstring(body[0]):
            node.body = body[1:] or [ast.Pass()]  # type: ignore[attr-defined]
    return tree


def _is_docstring(statement: ast.stmt) -> bool:
    return (isinstance(statement, ast.Expr) and isinstance(statement.value, ast.Constant)
            and isinstance(statement.value.value, str))


class _Renamer(ast.NodeTransformer):
    """Local names become v0, v1, …; top-level function and class names are kept, since
    callers (and tests) refer to them."""

    def __init__(self) -> None:
        self.names: dict[str, str] = {}
        self.kept: set[str] = set()

    def visit_Module(self, node: ast.Module) -> ast.AST:
        self.kept = {n.name for n in node.body if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef)}
        return self.generic_visit(node)

    def visit_Name(self, node: ast.Name) -> ast.AST:
        node.id = self._canonical(node.id)
        return node

    def visit_arg(self, node: ast.arg) -> ast.AST:
        node.arg = self._canonical(node.arg)
        node.annotation = None
        return node

    def visit_FunctionDef(self, node: ast.FunctionDef) -> ast.AST:
        node.name = self._canonical(node.name)
        node.returns = None
        return self.generic_visit(node)

    def _canonical(self, name: str) -> str:
        if name in _BUILTINS or name in self.kept:
            return name
        return self.names.setdefault(name, f"v{len(self.names)}")
