"""Chat answers often repeat code from before the cursor: keep only what is new."""

from __future__ import annotations

from difflib import SequenceMatcher

_LOOKBACK_LINES = 40
_SAME_LINE = 0.85  # small models paraphrase what they repeat ("n-th" → "nth")


def remove_prefix_overlap(text: str, prefix: str) -> str:
    """Drop the leading part of `text` that re-types the end of `prefix`."""
    if not prefix or not text:
        return text
    line_start = prefix.rfind("\n") + 1
    earlier, current = prefix[:line_start], prefix[line_start:]
    text = _drop_repeated_lines(text, earlier)
    return _drop_repeated_current_line(text, current)


def _drop_repeated_lines(text: str, earlier: str) -> str:
    """Skip answer lines that (nearly) equal lines just before the cursor's line."""
    seen = [line.strip() for line in earlier.splitlines()[-_LOOKBACK_LINES:] if line.strip()]
    lines = text.splitlines(keepends=True)
    skipped = 0
    while skipped < len(lines) and _repeats(lines[skipped].strip(), seen):
        skipped += 1
    return "".join(lines[skipped:]) if skipped else text


def _repeats(line: str, seen: list[str]) -> bool:
    if not line:
        return False
    return any(line == old or SequenceMatcher(None, line, old).ratio() >= _SAME_LINE for old in seen)


def _drop_repeated_current_line(text: str, current: str) -> str:
    """`    total = ` answered with `total = sum(xs)`: keep `sum(xs)`."""
    typed = current.strip()
    if not typed:
        return _strip_leading_indent(text, current)
    stripped = text.lstrip()
    if not stripped.startswith(typed):
        return text
    rest = stripped[len(typed):]
    return rest.lstrip(" \t") if current.endswith((" ", "\t")) else rest


def _strip_leading_indent(text: str, current: str) -> str:
    """The cursor already sits after the indentation: don't indent the first line twice."""
    if current and text.startswith(current):
        return text[len(current):]
    return text.lstrip(" \t") if current else text
