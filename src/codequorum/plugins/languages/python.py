"""Python, through the tree-sitter-python grammar."""

from __future__ import annotations

import tree_sitter_python

from codequorum.plugins.languages.base import TreeSitterLanguage
from codequorum.plugins.languages.python_failures import PythonFailures


class PythonLanguage(PythonFailures, TreeSitterLanguage):
    name = "python"
    extensions = (".py", ".pyi", ".pyw")
    comment_prefix = "#"
    markdown_tags = ("python", "py", "python3", "py3")
    body_types = frozenset({"module", "block"})
    block_openers = (":",)
    scope_probes = ("pass",)
    # The grammar accepts `def f():` with nothing indented under it; Python does not.
    required_bodies = ("block",)
    block_comment_opener = None
    indentation_blocks = True

    def grammar(self) -> object:
        return tree_sitter_python.language()
