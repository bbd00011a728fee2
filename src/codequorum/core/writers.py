"""Members that write tests for the other members' answers, asked through the strategy
context like any sample: CodeT-style generated tests (`testing/generated.py`) and probe calls
(`testing/probes.py`). What is written and how it runs lives in testing/; asking for it here."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass

from codequorum.core.context import StrategyContext
from codequorum.core.member import Member
from codequorum.sandbox import SandboxLimits
from codequorum.testing.generated import run_generated_tests, suite_from_answer, writer_request
from codequorum.testing.probes import Probes, probes_from_suite, record_probes
from codequorum.testing.python_tests import TestCase, TestSuite
from codequorum.vocabulary.candidate import Candidate


async def generated_suite(ctx: StrategyContext, writer: Member, count: int) -> TestSuite:
    """Asserts for the request, written by `writer` under the request's deadline and trace."""
    asked = writer_request(ctx.request, writer.fim is not None, count)
    helper = dataclasses.replace(ctx, request=asked, pool=[], checks=[], options={})  # one plain prompt
    answers = await helper.sample(writer)
    return suite_from_answer(asked, answers[0].text if answers else "", count)


async def score_with_generated_tests(
    ctx: StrategyContext, candidates: Sequence[Candidate], writer: Member, limits: SandboxLimits,
    count: int = 6,
) -> None:
    """Record `generated_tests` (pass counts) and `dual_agreement` on each candidate."""
    suite = await generated_suite(ctx, writer, count)
    ctx.trace.note(f"{writer.name} wrote {len(suite.cases)} usable test(s)")
    await run_generated_tests(ctx.request, candidates, suite, limits)


async def write_probes(ctx: StrategyContext, writer: Member, count: int,
                       candidates: Sequence[Candidate] = ()) -> Probes:
    """Up to `count` distinct calls of the functions the task or the candidates define."""
    return probes_from_suite(await generated_suite(ctx, writer, count), ctx.request, candidates, count)


@dataclass
class Prober:
    """One request's probe calls, written once by `writer`, run on every candidate as it comes."""

    writer: Member
    count: int
    limits: SandboxLimits
    written: Probes | None = None

    @property
    def asserts(self) -> tuple[TestCase, ...]:
        """The writer's asserts the calls came from (none before they are written)."""
        return self.written.asserts if self.written is not None else ()

    async def probe(self, ctx: StrategyContext) -> None:
        """Probe the pool's untested candidates not probed yet, once there are two to compare."""
        fresh = [c for c in ctx.pool if c.tests is None and not c.evidence.probed]
        if not fresh or len(ctx.pool) < 2:
            return
        if self.written is None:
            self.written = await write_probes(ctx, self.writer, self.count, ctx.pool)
            ctx.trace.note(f"{self.writer.name} wrote {len(self.written.calls)} probe call(s): "
                           + "; ".join(self.written.calls))
        await record_probes(ctx.request, fresh, self.written, self.limits)
