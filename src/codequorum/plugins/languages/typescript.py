"""TypeScript, through tree-sitter-typescript (its `typescript` and `tsx` grammars)."""

from __future__ import annotations

from typing import ClassVar

import tree_sitter_typescript

from codequorum.plugins.languages.base import TreeSitterLanguage


class TypeScriptLanguage(TreeSitterLanguage):
    name = "typescript"
    extensions: ClassVar[tuple[str, ...]] = (".ts", ".mts", ".cts")
    comment_prefix = "//"
    markdown_tags: ClassVar[tuple[str, ...]] = ("typescript", "ts", "mts", "cts")
    body_types = frozenset({"program", "statement_block", "class_body", "interface_body",
                            "switch_case", "switch_default"})
    scope_probes = ("x;",)  # a statement in a block, a member in a class or interface

    def grammar(self) -> object:
        return tree_sitter_typescript.language_typescript()


class TsxLanguage(TypeScriptLanguage):
    """TypeScript with JSX: a separate grammar, since `<T>x` means a cast only without JSX."""

    name = "tsx"
    extensions = (".tsx",)
    markdown_tags = ("tsx",)
    aliases = ("typescriptreact",)

    def grammar(self) -> object:
        return tree_sitter_typescript.language_tsx()
