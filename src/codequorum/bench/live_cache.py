"""Generations the collection did not hold (fuse's and moa's prompts built from other answers),
kept on disk so that replaying the same strategy again asks no model: "collect once, replay
many" for the live calls too.

One JSON line per call: the key (member, prompt and sampling parameters, hashed) and the
generations as measured, so a replay from the cache reports the original compute-seconds. A
strategy that runs on the real members as a whole (logit-fusion) is kept the same way, one line
per problem with its scored outcome. A cancelled call is not kept; a damaged line is skipped,
and the call is made again.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from codequorum.vocabulary.generation import Generation, GenerationParams, Prompt

log = logging.getLogger(__name__)


@dataclass
class LiveCache:
    path: Path | None  # None: kept in memory only
    _entries: dict[str, list[Generation]] = field(default_factory=dict)
    _outcomes: dict[str, dict[str, Any]] = field(default_factory=dict)

    @classmethod
    def open(cls, path: Path | None) -> LiveCache:
        cache = cls(path)
        if path is not None and path.exists():
            for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
                try:
                    entry = json.loads(line)
                    if "outcome" in entry:
                        cache._outcomes[entry["key"]] = dict(entry["outcome"])
                    else:
                        cache._entries[entry["key"]] = [Generation(**g) for g in entry["generations"]]
                except (ValueError, KeyError, TypeError):
                    log.warning("%s:%d: not a cached generation, skipped", path, number)
        return cache

    def __len__(self) -> int:
        return len(self._entries) + len(self._outcomes)

    def get(self, member: str, prompt: Prompt, params: GenerationParams) -> list[Generation] | None:
        return self._entries.get(cache_key(member, prompt, params))

    def put(self, member: str, prompt: Prompt, params: GenerationParams,
            generations: list[Generation]) -> None:
        if not generations or any(g.finish_reason == "cancelled" for g in generations):
            return
        key = cache_key(member, prompt, params)
        self._entries[key] = generations
        self._append({"key": key, "member": member,
                      "generations": [dataclasses.asdict(g) for g in generations]})

    def outcome(self, key: str) -> dict[str, Any] | None:
        """A whole strategy's stored outcome on one problem (see `outcome_key`)."""
        return self._outcomes.get(key)

    def put_outcome(self, key: str, outcome: dict[str, Any]) -> None:
        self._outcomes[key] = outcome
        self._append({"key": key, "outcome": outcome})

    def _append(self, entry: dict[str, Any]) -> None:
        if self.path is not None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with self.path.open("a", encoding="utf-8") as handle:
                handle.write(json.dumps(entry) + "\n")


def cache_key(member: str, prompt: Prompt, params: GenerationParams) -> str:
    """Everything that decides the answer; `stop_at` (a function of the request) is left out."""
    return _digest({
        "member": member,
        "prompt": dataclasses.asdict(prompt),
        "params": {name: getattr(params, name)
                   for name in ("max_tokens", "temperature", "top_p", "n", "seed", "stop")},
    })


def outcome_key(strategy: str, options: dict[str, Any], members: list[str], prompt: str,
                max_tokens: int) -> str:
    """A strategy run as a whole on one problem: its name and options, the members, the prompt."""
    return _digest({"strategy": strategy, "options": options, "members": members, "prompt": prompt,
                    "max_tokens": max_tokens})


def _digest(described: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(described, sort_keys=True, default=str).encode()).hexdigest()
