"""Go, through the tree-sitter-go grammar."""

from __future__ import annotations

import tree_sitter_go

from codequorum.plugins.languages.base import TreeSitterLanguage


class GoLanguage(TreeSitterLanguage):
    name = "go"
    extensions = (".go",)
    comment_prefix = "//"
    markdown_tags = ("go", "golang")
    body_types = frozenset({"source_file", "block", "statement_list", "expression_case",
                            "default_case", "type_case", "communication_case",
                            "field_declaration_list"})
    # `var` works at top level and in function bodies; `_ int` is a struct field.
    scope_probes = ("var _ = 0", "_ int")

    def grammar(self) -> object:
        return tree_sitter_go.language()
