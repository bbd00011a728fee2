"""In "line" scope a completion finishes the cursor's line: only its first line is kept."""

from __future__ import annotations


def keep_first_line(text: str) -> str:
    return text.split("\n", 1)[0].rstrip()
