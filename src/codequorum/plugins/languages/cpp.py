"""C++ and C, through the tree-sitter-cpp grammar (C parses as the C++ it nearly is)."""

from __future__ import annotations

import tree_sitter_cpp

from codequorum.plugins.languages.base import TreeSitterLanguage


class CppLanguage(TreeSitterLanguage):
    name = "cpp"
    extensions = (".cpp", ".cc", ".cxx", ".c++", ".hpp", ".hh", ".hxx", ".h", ".c", ".ipp",
                  ".inl")
    comment_prefix = "//"
    markdown_tags = ("cpp", "c++", "cc", "cxx", "hpp", "c", "h")
    body_types = frozenset({"translation_unit", "compound_statement", "declaration_list",
                            "field_declaration_list", "case_statement"})
    scope_probes = ("int x = 0;",)  # a declaration in a block, a namespace or a class

    def grammar(self) -> object:
        return tree_sitter_cpp.language()
