"""Stop a block completion where the gap ends: where the code leaves the enclosing definition.

Inside a definition a gap may dedent and indent again (an `else:` after an `if` body, the
`return` after a loop), so the only line that is surely past it is one that leaves the
definition around the cursor: one indented no deeper than its header (`def`, `class`,
`function`, a method's signature...), or, with no header in sight, a top-level line when the
gap starts indented. Closer cuts (re-typed code after the gap) are the suffix filter's job.
"""

from __future__ import annotations

from codequorum.core.postprocess.cursor_line import CursorLine, indent, is_closing_line, is_definition
from codequorum.vocabulary.scope import BLOCK_OPENERS

def limit_scope_by_indentation(text: str, prefix: str, suffix: str) -> str:
    """Cut at the first later line that leaves the definition the gap is in.

    A line that closes a bracket there ends the block: it is kept, unless the document
    closes that block itself right after the gap, and nothing after it is.
    """
    cursor = CursorLine.of(prefix, suffix)
    floor = _floor(cursor, prefix, text)
    if floor is None:
        return text
    lines = text.splitlines(keepends=True)
    for index, line in enumerate(lines[1:], start=1):
        if not line.strip() or indent(line) >= floor:
            continue
        if is_closing_line(line) and not _document_closes(cursor.following_code_line, line):
            index += 1
        return "".join(lines[:index])
    return text


def _floor(cursor: CursorLine, prefix: str, text: str) -> int | None:
    """Lines indented less than this have left the gap; None at the top level."""
    first = _first_indent(cursor, text)
    if first is None:
        return None
    header = _enclosing_definition(prefix, first, cursor)
    if header is not None:
        return indent(header) + 1
    return 1 if first > 0 else None


def _first_indent(cursor: CursorLine, text: str) -> int | None:
    """The indentation, in the document, of the gap's first line of code."""
    if cursor.continues_code:
        return indent(cursor.before) + cursor.before.rstrip().endswith(BLOCK_OPENERS)
    first = next((line for line in text.split("\n") if line.strip()), None)
    if first is None:
        return None
    return indent(cursor.before + first)


def _enclosing_definition(prefix: str, first: int, cursor: CursorLine) -> str | None:
    """The nearest definition header above the gap that is indented less than the gap."""
    rows = prefix.split("\n")
    if cursor.continues_code and is_definition(cursor.before):
        return cursor.before
    for row in reversed(rows[:-1]):
        if row.strip() and indent(row) < first and is_definition(row):
            return row
    return None


def _document_closes(following: str | None, line: str) -> bool:
    """The code after the gap closes the bracket that `line` would close."""
    return following is not None and is_closing_line(following) and indent(following) >= indent(line)
