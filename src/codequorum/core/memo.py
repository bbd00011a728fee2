"""Greedy answers a member already gave, given again without running the model.

A greedy generation (temperature 0) is a function of the prompt and the parameters, so the
same call twice needs the model once: an editor asks the same place again, and the server's
background refinement re-runs a request whose fast members had already answered it.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import replace
from typing import Any

from codequorum.vocabulary.generation import Generation, GenerationParams, Prompt

MEMO_SIZE = 64


class GenerationMemo:
    """A bounded LRU of finished greedy generations, keyed by prompt and parameters."""

    def __init__(self, size: int = MEMO_SIZE) -> None:
        self.size = size
        self._entries: OrderedDict[tuple[Any, ...], list[Generation]] = OrderedDict()

    def lookup(self, prompt: Prompt, params: GenerationParams) -> list[Generation] | None:
        """The remembered generations, costing no compute now; None when not remembered."""
        key = _key(prompt, params)
        if key is None or key not in self._entries:
            return None
        self._entries.move_to_end(key)
        return [replace(g, seconds=0.0) for g in self._entries[key]]

    def remember(self, prompt: Prompt, params: GenerationParams, generations: list[Generation]) -> None:
        key = _key(prompt, params)
        if key is None or not generations or any(g.finish_reason == "cancelled" for g in generations):
            return
        self._entries[key] = generations
        self._entries.move_to_end(key)
        while len(self._entries) > self.size:
            self._entries.popitem(last=False)


def _key(prompt: Prompt, params: GenerationParams) -> tuple[Any, ...] | None:
    """None for a sampled call: its answers are meant to differ. `stop_at` is left out: it
    follows from the request, which the prompt already shows."""
    if params.temperature > 0 or params.n != 1:
        return None
    return (prompt, params.max_tokens, params.stop)
