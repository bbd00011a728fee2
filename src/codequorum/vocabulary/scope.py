"""Line or block: what a completion at a cursor may insert, decided from the text alone.

Decided once per request, before any model runs, so that generation can stop where the gap
ends and every filter, check and ranker judges the same shape of snippet. Language plugins
refine the last case with their syntax tree (`plugins/languages/base.py`).
"""

from __future__ import annotations

from typing import Literal

# "line": the rest of the cursor's line; "block": whole lines (the cursor's line may be begun).
Scope = Literal["line", "block"]

BLOCK_OPENERS = (":", "{", "(", "[")


def scope_at(prefix: str, suffix: str) -> Scope:
    """Only indentation before the cursor (an empty line, or the start of a line in front of
    existing code, where whole lines go above it) is a block; code after the cursor on its
    line means "finish this line"; at the end of a line begun, a block may follow an opener."""
    line_before = prefix.rpartition("\n")[2]
    line_after = suffix.partition("\n")[0]
    if not line_before.strip():
        return "block"
    if line_after.strip():
        return "line"
    return "block" if line_before.rstrip().endswith(BLOCK_OPENERS) else "line"
