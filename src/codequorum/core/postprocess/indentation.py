"""Stop a block completion where the code leaves the cursor's block (by indentation)."""

from __future__ import annotations

_CLOSERS = set(")]}>;, ")


def limit_scope_by_indentation(text: str, prefix: str, suffix: str) -> str:
    """Cut at the first later line indented less than the cursor's line.

    A line made only of closing brackets is kept (brace languages close the block there).
    Only applies when code follows the cursor: at the end of a file, more code may be wanted.
    """
    if not suffix.strip():
        return text
    base = _indent(prefix[prefix.rfind("\n") + 1:])
    if base == 0:
        return text
    lines = text.splitlines(keepends=True)
    for index, line in enumerate(lines[1:], start=1):
        if line.strip() and _indent(line) < base:
            keep = index + 1 if set(line.strip()) <= _CLOSERS else index
            return "".join(lines[:keep]).rstrip("\n")
    return text


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip(" \t"))
