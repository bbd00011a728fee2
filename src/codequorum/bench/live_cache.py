"""Generations the collection did not hold (fuse's and moa's prompts built from other answers),
kept on disk so that replaying the same strategy again asks no model: "collect once, replay
many" for the live calls too.

One JSON line per call: the key (member, prompt and sampling parameters, hashed) and the
generations as measured, so a replay from the cache reports the original compute-seconds. A
cancelled call is not kept; a damaged line is skipped, and the call is made again.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
from dataclasses import dataclass, field
from pathlib import Path

from codequorum.plugins.protocols import Generation, GenerationParams, Prompt

log = logging.getLogger(__name__)


@dataclass
class LiveCache:
    path: Path | None  # None: kept in memory only
    _entries: dict[str, list[Generation]] = field(default_factory=dict)

    @classmethod
    def open(cls, path: Path | None) -> LiveCache:
        cache = cls(path)
        if path is not None and path.exists():
            for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
                try:
                    entry = json.loads(line)
                    cache._entries[entry["key"]] = [Generation(**g) for g in entry["generations"]]
                except (ValueError, KeyError, TypeError):
                    log.warning("%s:%d: not a cached generation, skipped", path, number)
        return cache

    def __len__(self) -> int:
        return len(self._entries)

    def get(self, member: str, prompt: Prompt, params: GenerationParams) -> list[Generation] | None:
        return self._entries.get(cache_key(member, prompt, params))

    def put(self, member: str, prompt: Prompt, params: GenerationParams,
            generations: list[Generation]) -> None:
        if not generations or any(g.finish_reason == "cancelled" for g in generations):
            return
        key = cache_key(member, prompt, params)
        self._entries[key] = generations
        if self.path is not None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            line = json.dumps({"key": key, "member": member,
                               "generations": [dataclasses.asdict(g) for g in generations]})
            with self.path.open("a", encoding="utf-8") as handle:
                handle.write(line + "\n")


def cache_key(member: str, prompt: Prompt, params: GenerationParams) -> str:
    """Everything that decides the answer; `stop_at` (a function of the request) is left out."""
    described = {
        "member": member,
        "prompt": dataclasses.asdict(prompt),
        "params": {name: getattr(params, name)
                   for name in ("max_tokens", "temperature", "top_p", "n", "seed", "stop")},
    }
    return hashlib.sha256(json.dumps(described, sort_keys=True).encode()).hexdigest()
