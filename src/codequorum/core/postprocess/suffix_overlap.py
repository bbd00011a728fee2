"""A model that runs past the gap re-types the text after the cursor: cut that off."""

from __future__ import annotations


def remove_suffix_overlap(text: str, suffix: str) -> str:
    text = _cut_at_suffix_line(text, suffix)
    return _trim_same_line_overlap(text, suffix)


def _cut_at_suffix_line(text: str, suffix: str) -> str:
    """Cut at the first completion line that equals the next non-blank line of the suffix."""
    anchor = _first_meaningful_line(suffix)
    if anchor is None:
        return text
    lines = text.splitlines(keepends=True)
    for index, line in enumerate(lines):
        if index == 0 and not text.startswith("\n") and not suffix.startswith("\n"):
            continue  # the first line continues the cursor's own line
        if line.strip() == anchor:
            return "".join(lines[:index])
    return text


def _first_meaningful_line(suffix: str) -> str | None:
    """The next non-blank suffix line, unless it is only closing brackets (too common)."""
    for line in suffix.splitlines():
        stripped = line.strip()
        if stripped:
            return None if set(stripped) <= set(")]};,") else stripped
    return None


def _trim_same_line_overlap(text: str, suffix: str) -> str:
    """`foo(|)` completed as `x)`: drop the `)` that the suffix already has."""
    rest_of_line = suffix.split("\n", 1)[0]
    first_line, newline, remainder = text.partition("\n")
    if newline or not rest_of_line:
        return text
    for size in range(min(len(rest_of_line), len(first_line)), 0, -1):
        if first_line.endswith(rest_of_line[:size]):
            return first_line[:-size]
    return text
