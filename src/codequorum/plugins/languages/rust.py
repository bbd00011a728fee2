"""Rust, through the tree-sitter-rust grammar."""

from __future__ import annotations

import tree_sitter_rust

from codequorum.plugins.languages.base import TreeSitterLanguage


class RustLanguage(TreeSitterLanguage):
    name = "rust"
    extensions = (".rs",)
    comment_prefix = "//"
    markdown_tags = ("rust", "rs")
    body_types = frozenset({"source_file", "block", "declaration_list",
                            "field_declaration_list"})
    block_openers = ("{",)
    # A statement in a function body; an item at top level or in impl/trait/mod bodies;
    # a struct field.
    scope_probes = ("let _ = 0;", "const _: () = ();", "_f: (),")

    def grammar(self) -> object:
        return tree_sitter_rust.language()
