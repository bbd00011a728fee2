"""`foo(|)` completed as `x)`: the editor already closed the bracket, so it is not typed twice.

After Tabby's `calculateReplaceRangeByBracketStack`: only what the snippet closes of the
text before the cursor may repeat what the line has after it; `bar()` inside `foo(|)` keeps
its own `)`.
"""

from __future__ import annotations

from codequorum.core.postprocess.cursor_line import CLOSERS, OPENERS

QUOTES = "\"'`"


def remove_closing_overlap(text: str, suffix: str) -> str:
    """Drop the end of a one-line snippet that re-types the start of the rest of the line."""
    rest_of_line = suffix.split("\n", 1)[0].rstrip()
    if "\n" in text or not rest_of_line:
        return text
    foreign = _closes_outside(text)
    for size in range(min(len(rest_of_line), len(text)), 0, -1):
        start = len(text) - size
        if text.endswith(rest_of_line[:size]) and _may_drop(text, start, foreign):
            return text[:start]
    return text


def _may_drop(text: str, start: int, foreign: set[int]) -> bool:
    """The dropped tail closes only brackets and strings opened before the snippet."""
    return all(i in foreign for i in range(start, len(text)) if text[i] in CLOSERS + QUOTES)


def _closes_outside(text: str) -> set[int]:
    """Positions of the closing brackets and quotes that close something the snippet did
    not open (the document did, before the cursor)."""
    stack: list[str] = []
    foreign: set[int] = set()
    quote: str | None = None
    for index, char in enumerate(text):
        if quote is not None:
            if char == quote and text[index - 1:index] != "\\":
                quote = None
            continue
        if char in QUOTES:
            if _closes_a_string(text, index):
                foreign.add(index)
            else:
                quote = char
        elif char in OPENERS:
            stack.append(char)
        elif char in CLOSERS:
            if stack and OPENERS.index(stack[-1]) == CLOSERS.index(char):
                stack.pop()
            else:
                foreign.add(index)
    return foreign


def _closes_a_string(text: str, index: int) -> bool:
    """A quote with no partner after it in the snippet closes a string begun before it."""
    return text.count(text[index], index + 1) % 2 == 0 and text.count(text[index], 0, index) == 0
