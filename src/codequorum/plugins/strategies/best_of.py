"""`best-of`: ask every member, keep what parses, prefer what the others agree with.

Options: `samples` and `temperature` per member; `generated_tests` (true, or a member name)
has a member write tests for a Python generation without visible tests, and candidates are
also scored by CodeT's dual agreement on them.
"""

from __future__ import annotations

from typing import Any, ClassVar

from codequorum.core.context import StrategyContext
from codequorum.sandbox import SandboxLimits
from codequorum.testing.generated import score_with_generated_tests
from codequorum.vocabulary.candidate import Candidate
from codequorum.vocabulary.request import TaskKind
from codequorum.vocabulary.result import Result


class BestOfStrategy:
    name: ClassVar[str] = "best-of"

    def __init__(self, options: dict[str, Any]) -> None:
        self.samples = int(options.get("samples", 1))
        self.temperature: float | None = options.get("temperature")
        self.generated_tests: bool | str = options.get("generated_tests", False)
        self.test_limits = SandboxLimits(timeout_s=float(options.get("test_timeout_s", 5.0)))

    async def run(self, ctx: StrategyContext) -> Result:
        names = ", ".join(m.name for m in ctx.members)
        ctx.trace.note(f"asking every member ({names}) for {self.samples} sample(s)")
        candidates = await ctx.sample_all(ctx.members, n=self.samples, temperature=self.temperature)
        if not candidates:
            return ctx.result([], "every member failed")
        await ctx.check(candidates)
        if self._wants_generated_tests(ctx, candidates):
            writer = ctx.member(self.generated_tests) if isinstance(self.generated_tests, str) else ctx.members[0]
            await score_with_generated_tests(ctx, candidates, writer, self.test_limits)
        ranked = ctx.rank(candidates)
        answered = len({c.member for c in candidates})
        reason = f"ranked {len(candidates)} candidates from {answered} member(s)"
        return ctx.result(ranked, reason)

    def _wants_generated_tests(self, ctx: StrategyContext, candidates: list[Candidate]) -> bool:
        request = ctx.request
        no_visible_tests = all(c.tests is None for c in candidates)
        return bool(self.generated_tests) and request.kind is TaskKind.GENERATE and \
            request.language in (None, "python") and no_visible_tests
