"""A model that runs past the gap re-types the code after it: cut where that starts."""

from __future__ import annotations

from codequorum.core.postprocess.cursor_line import CLOSERS, CursorLine


def remove_suffix_overlap(text: str, suffix: str, prefix: str = "") -> str:
    """Cut at the first snippet line that re-types the next line of code after the gap.

    The snippet's first line continues the cursor's line when there is code before the
    cursor, so it is not compared. A line of closing brackets alone is too common inside
    snippets to go by: it counts only with its exact indentation, and when the snippet ends
    there or goes on with the code the document has after it too.
    """
    cursor = CursorLine.of(prefix, suffix)
    following = cursor.following_code_line
    if following is None:
        return text
    after_it = _code_line_after(suffix, following)
    lines = text.splitlines(keepends=True)
    for index, line in enumerate(lines):
        if index == 0 and cursor.continues_code:
            continue
        if _retypes(lines, index, following, after_it):
            return "".join(lines[:index])
    return text


def _retypes(lines: list[str], index: int, following: str, after_it: str | None) -> bool:
    line = lines[index]
    if not _only_closers(following):
        return line.strip() == following.strip()
    if line.rstrip() != following.rstrip():
        return False
    rest = [row for row in lines[index + 1:] if row.strip()]
    return not rest or (after_it is not None and rest[0].strip() == after_it.strip())


def _only_closers(line: str) -> bool:
    return set(line.strip()) <= set(CLOSERS + ";,")


def _code_line_after(suffix: str, following: str) -> str | None:
    """The line of code the suffix has after `following`."""
    rows = suffix.split("\n")
    stripped = [row.strip() for row in rows]
    if following.strip() not in stripped:
        return None
    start = stripped.index(following.strip()) + 1
    return next((row for row in rows[start:] if row.strip()), None)
