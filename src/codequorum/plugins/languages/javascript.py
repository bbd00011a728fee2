"""JavaScript (and JSX, which the grammar parses too), through tree-sitter-javascript."""

from __future__ import annotations

import tree_sitter_javascript

from codequorum.plugins.languages.base import TreeSitterLanguage


class JavaScriptLanguage(TreeSitterLanguage):
    name = "javascript"
    extensions = (".js", ".mjs", ".cjs", ".jsx")
    comment_prefix = "//"
    markdown_tags = ("javascript", "js", "jsx", "mjs", "cjs", "node")
    aliases = ("javascriptreact",)
    body_types = frozenset({"program", "statement_block", "class_body", "switch_case",
                            "switch_default"})
    scope_probes = ("x;",)  # a statement in a block, a field in a class body

    def grammar(self) -> object:
        return tree_sitter_javascript.language()
