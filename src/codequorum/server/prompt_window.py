"""The part of a document a completion prompt shows, cut so that it stays stable while typing.

Local models reuse their KV cache for the longest prompt prefix they have already seen, so the
window must not start somewhere new at every keystroke: its start moves in steps of
`START_STEP` characters, always to a line boundary.
"""

from __future__ import annotations

from dataclasses import dataclass

START_STEP = 512


@dataclass(frozen=True)
class PromptWindow:
    text: str
    cursor: int  # offset of the cursor inside `text`


def prompt_window(text: str, offset: int, prefix_chars: int, suffix_chars: int) -> PromptWindow:
    start = _window_start(text, offset, prefix_chars)
    end = _window_end(text, offset, suffix_chars)
    return PromptWindow(text[start:end], offset - start)


def _window_start(text: str, offset: int, prefix_chars: int) -> int:
    if offset <= prefix_chars:
        return 0
    earliest = (offset - prefix_chars) // START_STEP * START_STEP
    boundary = text.find("\n", earliest, offset)
    return boundary + 1 if boundary != -1 else earliest


def _window_end(text: str, offset: int, suffix_chars: int) -> int:
    """After `suffix_chars`, at a line boundary; never before the end of the cursor's line,
    which post-processing needs to avoid re-typing it."""
    line_end = text.find("\n", offset)
    if line_end == -1 or len(text) - offset <= suffix_chars:
        return len(text)
    boundary = text.rfind("\n", line_end, offset + suffix_chars)
    return (boundary if boundary != -1 else line_end) + 1
