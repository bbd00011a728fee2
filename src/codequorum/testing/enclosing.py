"""The Python definition around a completion's cursor, and whether a snippet finishes it.

An inline completion has no tests of its own, but the function it fills in often shows examples
in its docstring (doctests, `f(2) => 4`). They tell a right snippet from a wrong one only where,
with the snippet, the function is whole: its code goes on past the cursor (a gap), or the snippet
ends it with a `return`, `raise` or `yield`. A snippet in the middle of a function still being
written fails them like any other, and running them would only cost time.
"""

from __future__ import annotations

import re

_DEFINITION = re.compile(r"(?:async[ \t]+def|def|class)[ \t]")
_DECORATOR = re.compile(r"@")
_CLOSING = re.compile(r"[)\]}]")  # a top-level bracket closing a signature or a call
_ENDING = re.compile(r"(?:return|raise|yield)\b")


def definition_around(prefix: str, suffix: str) -> str | None:
    """The top-level `def` or `class` (with its decorators) that the cursor between `prefix` and
    `suffix` is in, without the text to be inserted; None when the cursor is not inside one."""
    before = prefix.split("\n")
    after = suffix.split("\n")
    cursor_line = before[-1] + after[0]
    if cursor_line.strip() and _starts_top_level(cursor_line):
        return None  # at the top level itself: no definition around the cursor
    start = _definition_start(before[:-1])
    if start is None:
        return None
    end = _definition_end(after[1:])
    return "\n".join([*before[start:-1], cursor_line, *after[1 : 1 + end]])


def finishes_definition(prefix: str, snippet: str, suffix: str) -> bool:
    """With `snippet` inserted, the definition around the cursor is whole: code of it follows
    the cursor, or the snippet's last statement returns, raises or yields."""
    after = suffix.split("\n")
    rest = [after[0], *after[1 : 1 + _definition_end(after[1:])]]
    if any(_is_code(line) for line in rest):
        return True
    last = next((line for line in reversed(snippet.split("\n")) if _is_code(line)), "")
    return bool(_ENDING.match(last.strip()))


def _definition_start(lines: list[str]) -> int | None:
    """The index of the top-level definition's first line (its first decorator), scanning up
    from the line above the cursor; None when top-level code other than a definition comes first."""
    for index in range(len(lines) - 1, -1, -1):
        line = lines[index]
        if not _starts_top_level(line):
            continue
        if not _DEFINITION.match(line):
            return None
        while index > 0 and _DECORATOR.match(lines[index - 1]):
            index -= 1
        return index
    return None


def _definition_end(lines: list[str]) -> int:
    """How many of the lines below the cursor's line still belong to the definition."""
    for index, line in enumerate(lines):
        if _starts_top_level(line):
            return index
    return len(lines)


def _starts_top_level(line: str) -> bool:
    """Code at column 0: a statement of the module, not a comment or a closing bracket."""
    return bool(line) and not line[0].isspace() and not line.startswith("#") and not _CLOSING.match(line)


def _is_code(line: str) -> bool:
    return bool(line.strip()) and not line.lstrip().startswith("#")
