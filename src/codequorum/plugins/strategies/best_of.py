"""`best-of`: ask every member, keep what parses, prefer what the others agree with.

Options: `samples` and `temperature` per member; `generated_tests` (true, or a member name)
has a member write tests for a Python generation without visible tests, and candidates are
also scored by CodeT's dual agreement on them.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from pydantic import Field

from codequorum.core.context import StrategyContext
from codequorum.core.strategy_options import StrategyOptions, parse_options
from codequorum.core.toolkit import EVERY_MEMBER_FAILED, ask_every_member, ranked_from
from codequorum.core.writers import score_with_generated_tests
from codequorum.sandbox import SandboxLimits
from codequorum.vocabulary.candidate import Candidate
from codequorum.vocabulary.request import TaskKind
from codequorum.vocabulary.result import Result


class BestOfOptions(StrategyOptions):
    samples: int = Field(1, ge=1)  # per member
    temperature: float | None = None  # None: the engine's
    generated_tests: bool | str = False  # true: the strongest member writes them; or a member name
    test_timeout_s: float = Field(5.0, gt=0)


class BestOfStrategy:
    name: ClassVar[str] = "best-of"
    Options: ClassVar[type[BestOfOptions]] = BestOfOptions

    def __init__(self, options: BestOfOptions | Mapping[str, Any]) -> None:
        self.options = parse_options(self.name, BestOfOptions, options)

    async def run(self, ctx: StrategyContext) -> Result:
        candidates = await ask_every_member(ctx, self.options.samples, self.options.temperature)
        if not candidates:
            return ctx.result([], EVERY_MEMBER_FAILED)
        if self._wants_generated_tests(ctx, candidates):
            named = self.options.generated_tests
            writer = ctx.member(named) if isinstance(named, str) else ctx.members[0]
            limits = SandboxLimits(timeout_s=self.options.test_timeout_s)
            await score_with_generated_tests(ctx, candidates, writer, limits)
        return ctx.result(ctx.rank(candidates), ranked_from(candidates))

    def _wants_generated_tests(self, ctx: StrategyContext, candidates: list[Candidate]) -> bool:
        request = ctx.request
        no_visible_tests = all(c.tests is None for c in candidates)
        return bool(self.options.generated_tests) and request.kind is TaskKind.GENERATE and \
            request.language in (None, "python") and no_visible_tests
