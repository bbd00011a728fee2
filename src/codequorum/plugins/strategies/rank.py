"""`rank`: LLM-Blender's ranking step (Jiang et al. 2023): every member's candidates go
through the checks and the scorer ensemble (the listwise ranker, when its weights ship),
best first.

It is `best-of` with two differences, so it reuses best-of's code: it never generates tests
(`generated_tests` is ignored), and `top_k` (default 3) bounds the alternatives returned,
the candidates that a later fusion step or the editor would see.

Options: `samples` and `temperature` per member, as for best-of; `top_k`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from pydantic import model_validator

from codequorum.core.context import StrategyContext
from codequorum.core.strategy_options import StrategyOptions, parse_options
from codequorum.plugins.strategies.best_of import BestOfStrategy
from codequorum.vocabulary.result import Result


class RankOptions(StrategyOptions):
    samples: int = 1  # per member
    temperature: float | None = None  # None: the engine's
    top_k: int = 3
    generated_tests: bool | str = False  # taken for best-of's sake, and ignored

    @model_validator(mode="after")
    def _in_range(self) -> RankOptions:
        if self.top_k < 1:
            raise ValueError(f"top_k must be at least 1, not {self.top_k}")
        return self


class RankStrategy(BestOfStrategy):
    name: ClassVar[str] = "rank"
    Options: ClassVar[type[RankOptions]] = RankOptions  # type: ignore[assignment]

    def __init__(self, options: RankOptions | Mapping[str, Any]) -> None:
        typed = parse_options(self.name, RankOptions, options)
        super().__init__({"samples": typed.samples, "temperature": typed.temperature,
                          "prompt_forms": typed.prompt_forms})
        self.top_k = typed.top_k

    async def run(self, ctx: StrategyContext) -> Result:
        ranked = await super().run(ctx)
        if not ranked.candidates:
            return ranked
        scores = ranked.candidates[0].scores
        scorers = sorted(k.removeprefix("scorer.") for k in scores if k.startswith("scorer."))
        ctx.trace.note(f"ranked by {', '.join(scorers)} (rule: {ctx.ranking.rule})")
        kept = ranked.candidates[: self.top_k]
        reason = f"{ctx.trace.stop_reason}; returned the top {len(kept)}"
        return ctx.result(kept, reason)
