"""Sampled answers collected on demand: only where a replayed strategy asks for them.

A strategy that samples on every problem (vote) needs the whole sampled collection, but one
that samples only when cheaper evidence runs out (a cascade that resamples its last member
when the greedy answers fail the visible tests) needs it for a few problems. Collecting the
sampled setting up front would pay for every problem; here the first replayed call that asks
a member for samples on a problem collects that cell with the real member, runs its hidden
tests in the sandbox and appends it to the store, exactly as the up-front collection would.
A later replay finds it there, so each cell is still generated once.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from codequorum.bench.collect import Progress, collect
from codequorum.bench.problems import Problem
from codequorum.config import Settings
from codequorum.core.engine import Engine
from codequorum.sandbox import SandboxLimits
from codequorum.vocabulary.records import CandidateStore, Record, Setting


@dataclass
class OnDemand:
    settings: Settings  # the real members, as configured
    problems: Sequence[Problem]
    setting: Setting
    store: CandidateStore
    limits: SandboxLimits
    max_tokens: int = 384
    progress: Progress = lambda _line: None
    collected: list[Record] = field(default_factory=list)  # what this run generated
    _engine: Engine | None = None

    async def collect(self, problem_id: str, member: str) -> list[Record]:
        """Generate, test and store the sampled cell of (problem, member); its records."""
        problem = next(p for p in self.problems if p.id == problem_id)
        if self._engine is None:
            self._engine = Engine(self.settings)
        records = await collect(self._engine, [problem], [member], self.setting, self.store,
                                self.limits, self.max_tokens,
                                progress=lambda cell: self.progress(f"sampled on demand: {cell}"))
        self.collected += records
        return records

    async def aclose(self) -> None:
        if self._engine is not None:
            await self._engine.aclose()
            self._engine = None
