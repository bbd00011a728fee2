"""Indentation errors that tree-sitter-python accepts but Python rejects.

The grammar's scanner turns indentation into INDENT/DEDENT tokens without checking that they
line up, so a snippet that dedents in the middle of a block parses cleanly: `    return x`
inserted in front of a line of a loop body leaves that line "unexpectedly indented", and
`return x` at column 0 ends the function. Both break the program, and the syntax check in
context must see it. Only statements that begin their line are judged (`if x: y` keeps its
body on the header's line); comments may sit at any indentation.
"""

from __future__ import annotations

from collections.abc import Iterator

import tree_sitter

TAB_SIZE = 8  # Python's tokenizer expands tabs to multiples of 8 when it compares indentation
IGNORED = frozenset({"comment"})
# The parts of a compound statement that begin at its own indentation.
CLAUSES = frozenset({"elif_clause", "else_clause", "except_clause", "except_group_clause", "finally_clause"})


def misindented(source: bytes, bodies: list[tree_sitter.Node]) -> Iterator[tuple[int, int]]:
    """The first lines (start and end byte) of the statements of `bodies` (the tree's root and
    blocks) that Python would reject for their indentation:

    - in a block, a statement whose indentation differs from the block's first statement's
      ("unexpected indent", "unindent does not match any outer indentation level"), and a
      first statement not indented deeper than the line of the statement owning the block
      ("expected an indented block");
    - at the root, a first statement indented at all, or one indented deeper than the one
      before it. A prompt window may start inside a function, so the root's statements may
      step back to lower indentation (and an indented start is the window's, in context);
    - a clause (`elif`, `else`, `except`, `finally`) not at its statement's indentation.
    """
    for node in _misindented(source, bodies):
        line_end = source.find(b"\n", node.start_byte, node.end_byte)
        yield node.start_byte, node.end_byte if line_end == -1 else line_end


def _misindented(source: bytes, bodies: list[tree_sitter.Node]) -> Iterator[tree_sitter.Node]:
    for body in bodies:
        lines = [(node, _indent_width(source, node)) for node in body.named_children
                 if node.type not in IGNORED and not node.is_error]
        lines = [(node, width) for node, width in lines if width is not None]
        owner = body.parent
        if owner is None:
            if lines and lines[0][1] > 0:
                yield lines[0][0]
            yield from (node for (node, width), (_, before) in zip(lines[1:], lines, strict=False) if width > before)
            continue
        if owner.type not in CLAUSES:  # a statement's own block, before its clauses' blocks
            yield from _misaligned_clauses(source, owner)
        if not lines:
            continue
        first_width = lines[0][1]
        if first_width <= _line_indent_width(source, owner.start_byte):
            yield lines[0][0]
        yield from (node for node, width in lines[1:] if width != first_width)


def _misaligned_clauses(source: bytes, statement: tree_sitter.Node) -> Iterator[tree_sitter.Node]:
    width = _line_indent_width(source, statement.start_byte)
    for clause in statement.named_children:
        if clause.type in CLAUSES and _indent_width(source, clause) not in (None, width):
            yield clause


def _indent_width(source: bytes, node: tree_sitter.Node) -> int | None:
    """The width of the whitespace before `node` on its line, or None when code comes before it."""
    lead = source[source.rfind(b"\n", 0, node.start_byte) + 1:node.start_byte]
    return None if lead.strip(b" \t") else _width(lead)


def _line_indent_width(source: bytes, offset: int) -> int:
    """The width of the whitespace that begins the line holding `offset`."""
    line = source[source.rfind(b"\n", 0, offset) + 1:offset]
    return _width(line[:len(line) - len(line.lstrip(b" \t"))])


def _width(lead: bytes) -> int:
    return len(lead.decode("ascii", "replace").expandtabs(TAB_SIZE))
