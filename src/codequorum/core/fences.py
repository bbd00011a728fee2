"""Code fences that text inside them cannot close.

A prompt shows code, test output and other models' answers in Markdown fences. A fence closes at
a line of at least as many backticks as it opened with, so text holding "````" would end a
three-backtick fence early and stand outside it, where a model reads it as the prompt's own
words. The fence is therefore always longer than the longest run of backticks in the text, and
at least three backticks, so ordinary text gets the fence it always had.
"""

from __future__ import annotations

import re

_BACKTICKS = re.compile(r"`+")


def fence_for(text: str) -> str:
    """Backticks, one more than the longest run of them in `text` (at least three)."""
    longest = max((len(run) for run in _BACKTICKS.findall(text)), default=0)
    return "`" * max(3, longest + 1)


def fenced(text: str, info: str = "") -> str:
    """`text` in a fence it cannot close; `info` is the fence's info string (a language)."""
    fence = fence_for(text + info)
    return f"{fence}{info}\n{text}\n{fence}"
