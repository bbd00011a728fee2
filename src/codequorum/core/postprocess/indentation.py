"""Stop a block completion where the gap ends: where the code leaves the cursor's block."""

from __future__ import annotations

from codequorum.core.postprocess.cursor_line import CursorLine, indent, is_closing_line


def limit_scope_by_indentation(text: str, prefix: str, suffix: str) -> str:
    """Cut at the first later line indented less than the gap may go.

    The gap may dedent as far as the code that follows it (the suffix's next line), but no
    further, and never to the top level from inside a block. A line that closes a bracket
    there ends the block: it is kept, unless the document closes that block itself next, and
    nothing after it is.
    """
    cursor = CursorLine.of(prefix, suffix)
    floor = _floor(cursor)
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


def _floor(cursor: CursorLine) -> int | None:
    """Lines indented less than this have left the gap; None at the top level."""
    gap = cursor.gap_indent()
    following = cursor.following_code_line
    if following is None and cursor.at_column_zero_of_empty_line:
        floor = 0  # the snippet sets its own indentation: only the top level is past the gap
    else:
        floor = gap if following is None else min(gap, indent(following))
    if floor == 0:
        return 1 if gap > 0 else None  # inside a block, a top-level line is past the gap
    return floor


def _document_closes(following: str | None, line: str) -> bool:
    """The code after the gap closes the bracket that `line` would close."""
    return following is not None and is_closing_line(following) and indent(following) >= indent(line)
