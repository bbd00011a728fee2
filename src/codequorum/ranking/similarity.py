"""Agreement between candidates: normalised code tokens and their pairwise similarity."""

from __future__ import annotations

import io
import re
import tokenize
from collections.abc import Sequence
from difflib import SequenceMatcher

_WORDS = re.compile(r"[A-Za-z_]\w*|\d+(?:\.\d+)?|\"(?:\\.|[^\"\\])*\"|'(?:\\.|[^'\\])*'|\S")
_LINE_COMMENT = {"python": "#"}


def code_tokens(text: str, language: str | None = None) -> tuple[str, ...]:
    """Tokens without comments or layout, so equal code with other spacing compares equal."""
    if language in (None, "python"):
        tokens = _python_tokens(text)
        if tokens is not None:
            return tokens
    marker = _LINE_COMMENT.get(language or "", "//")
    lines = [line.split(marker, 1)[0] if marker in line else line for line in text.splitlines()]
    return tuple(_WORDS.findall("\n".join(lines)))


def _python_tokens(text: str) -> tuple[str, ...] | None:
    skip = {tokenize.COMMENT, tokenize.NL, tokenize.ENCODING, tokenize.ENDMARKER}
    try:
        found = tokenize.generate_tokens(io.StringIO(text).readline)
        return tuple(tok.string or tokenize.tok_name[tok.type] for tok in found if tok.type not in skip)
    except (tokenize.TokenError, IndentationError, SyntaxError):
        return None


def similarity(a: Sequence[str], b: Sequence[str]) -> float:
    """Share of matching tokens, 0..1 (1 for two empty sequences)."""
    if not a and not b:
        return 1.0
    return SequenceMatcher(None, a, b, autojunk=False).ratio()


def agreement(token_lists: Sequence[Sequence[str]], index: int) -> float:
    """Mean similarity of one candidate to every other one (0 when it is alone)."""
    others = [other for i, other in enumerate(token_lists) if i != index]
    if not others:
        return 0.0
    return sum(similarity(token_lists[index], other) for other in others) / len(others)
