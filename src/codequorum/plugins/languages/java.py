"""Java, through the tree-sitter-java grammar."""

from __future__ import annotations

import tree_sitter_java

from codequorum.plugins.languages.base import TreeSitterLanguage


class JavaLanguage(TreeSitterLanguage):
    name = "java"
    extensions = (".java",)
    comment_prefix = "//"
    markdown_tags = ("java",)
    body_types = frozenset({"program", "block", "class_body", "interface_body",
                            "enum_body_declarations", "constructor_body",
                            "switch_block_statement_group", "annotation_type_body"})
    scope_probes = ("int x = 0;",)  # a local variable in a block, a field in a class body

    def grammar(self) -> object:
        return tree_sitter_java.language()
