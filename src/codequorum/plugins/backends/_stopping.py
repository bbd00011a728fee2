"""Where generated text should end: stop strings and the request's `stop_at` rule.

Backends that receive text piece by piece (a stream, a token loop) call `stop_offset` on the
text so far and cut there; servers may not know every stop (some accept only four).
"""

from __future__ import annotations

from codequorum.vocabulary.generation import GenerationParams


def stop_offset(text: str, params: GenerationParams) -> int | None:
    """The offset where `text` must be cut, or None to go on."""
    positions = [text.find(stop) for stop in params.stop if stop and stop in text]
    if positions:
        return min(positions)
    return params.stop_at(text) if params.stop_at is not None else None
