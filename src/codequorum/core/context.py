"""What a strategy works with: members to sample, checks to run, and the trace it fills."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from codequorum.config import RankingConfig
from codequorum.core.member import Member
from codequorum.core.postprocess import clean, early_stop
from codequorum.core.prompt_forms import check_forms, prompt_in_form
from codequorum.core.protocols import Check
from codequorum.ranking.scoring import rank_candidates
from codequorum.vocabulary.cancel import CancelToken
from codequorum.vocabulary.candidate import Candidate
from codequorum.vocabulary.errors import ConfigError
from codequorum.vocabulary.generation import Generation, GenerationParams, Prompt
from codequorum.vocabulary.request import Request, TaskKind
from codequorum.vocabulary.result import MemberCall, Result, Trace

log = logging.getLogger(__name__)


@dataclass
class StrategyContext:
    request: Request
    members: list[Member]  # the members this request may use, strongest first
    checks: list[Check]
    trace: Trace
    options: dict[str, Any] = field(default_factory=dict)
    cancel: CancelToken = field(default_factory=CancelToken)
    temperature: float = 0.0
    ranking: RankingConfig = field(default_factory=RankingConfig)
    pool: list[Candidate] = field(default_factory=list)  # every candidate produced so far
    build_strategy: Callable[[str, Mapping[str, Any]], Any] | None = None  # the engine's, for hand-overs
    _answered: asyncio.Event = field(default_factory=asyncio.Event, init=False, repr=False)

    def member(self, name: str) -> Member:
        for member in self.members:
            if member.name == name:
                return member
        known = ", ".join(m.name for m in self.members)
        raise ConfigError(f"no member named {name!r} in this request (members: {known})")

    async def sample(
        self,
        member: Member,
        n: int = 1,
        temperature: float | None = None,
        use_fim: bool | None = None,
        seed: int = 0,
    ) -> list[Candidate]:
        """Ask one member for n samples; a failure is recorded in the trace, never raised.
        With the `prompt_forms` option, n samples per form (`core/prompt_forms.py`)."""
        if self.options.get("prompt_forms") and use_fim is None:
            return await self._sample_forms(member, n, temperature, seed)
        prompt = member.prompt_for(self.request, use_fim)
        return await self.sample_prompt(member, prompt, n, temperature, seed)

    async def _sample_forms(self, member: Member, n: int, temperature: float | None, seed: int) -> list[Candidate]:
        candidates: list[Candidate] = []
        for form in check_forms(self.options["prompt_forms"]):
            prompt = prompt_in_form(self.request, member.fim_template, form)
            if prompt is None:
                self.trace.note(f"prompt form {form} does not apply to {member.name} here: skipped")
                continue
            candidates += await self.sample_prompt(member, prompt, n, temperature, seed)
        return candidates

    async def sample_prompt(
        self,
        member: Member,
        prompt: Prompt,
        n: int = 1,
        temperature: float | None = None,
        seed: int = 0,
        label: str | None = None,
    ) -> list[Candidate]:
        """Ask one member with a prompt the strategy built itself (e.g. an aggregation prompt),
        under the same deadline, trace and failure handling as `sample`. `label` names the
        prompt's purpose in the trace and on the candidates (e.g. "repair"); default its kind."""
        params = GenerationParams(
            max_tokens=member.max_tokens(self.request),
            temperature=self.temperature if temperature is None else temperature,
            n=n,
            seed=seed,
            stop=prompt.stop,
            stop_at=early_stop(self.request, from_chat=prompt.kind == "chat"),
            queue_priority=self._queue_priority(member),
        )
        call = MemberCall(member=member.name, prompt_kind=label or prompt.kind, samples=n)
        self.trace.calls.append(call)
        started = time.monotonic()
        try:
            generations = await self._generate_within_deadline(member, prompt, params)
        except asyncio.CancelledError:
            call.stopped = call.stopped or "cancelled"  # "settled" when settling stopped it
            call.seconds = time.monotonic() - started
            raise
        except Exception as error:  # any backend failure becomes evidence, not a crash
            call.error = _describe(error)
            call.seconds = time.monotonic() - started
            log.info("member %s failed: %s", member.name, call.error)  # the trace shows it
            return []
        call.seconds = time.monotonic() - started
        candidates = [self._candidate(member, prompt.kind, g, label) for g in generations]
        call.tokens = sum(g.tokens for g in generations)
        call.prompt_tokens = sum(g.prompt_tokens for g in generations)
        call.compute_seconds = sum(g.seconds for g in generations)
        if generations:
            call.first_token_seconds = generations[0].first_token_seconds
            call.cached_prompt_tokens = generations[0].cached_prompt_tokens
        call.drafted_tokens = sum(g.drafted_tokens for g in generations)
        call.accepted_draft_tokens = sum(g.accepted_draft_tokens for g in generations)
        call.cost = member.cost_of(call.tokens)
        self.pool.extend(candidates)
        if any(c.text.strip() for c in candidates):
            self._answered.set()
        return candidates

    def _queue_priority(self, member: Member) -> float | None:
        """Members queued together for the CPU: a completion wants its first answer soon
        (cheapest first); generate and fix have the time for the best one (strongest first),
        so on a busy machine the strongest is the one that answers late, not never."""
        if self.request.kind is TaskKind.COMPLETE:
            return None
        return -member.config.quality

    async def sample_all(
        self, members: Sequence[Member], n: int = 1, temperature: float | None = None
    ) -> list[Candidate]:
        """Ask several members at once; the scheduler decides what really runs in parallel.

        With a `settle_ratio` in the budget, members still running when the first one has
        answered get that fraction of its time more; those that miss it are stopped and their
        calls marked `stopped = "settled"`.
        """
        started = time.monotonic()
        tasks = {asyncio.ensure_future(self.sample(m, n, temperature)): m for m in members}
        try:
            late = await self._settle(set(tasks), started)
        except BaseException:
            await _stop(t for t in tasks if not t.done())
            raise
        for task in late:
            if _let_go(task):  # not one that finished just now
                self._mark_settled(tasks[task])
        return [c for task in tasks if _answered(task) for c in task.result()]

    async def _settle(self, pending: set[asyncio.Future[list[Candidate]]], started: float) -> set[Any]:
        """Wait for the tasks, or after the first useful answer for a grace; the late ones."""
        ratio = self.request.budget.settle_ratio
        while pending:
            done, pending = await asyncio.wait(pending, return_when=asyncio.FIRST_COMPLETED)
            if ratio is not None and pending and any(_answered(t) for t in done):
                grace = ratio * (time.monotonic() - started)
                left = self.request.seconds_left()
                if left is not None and grace >= left:
                    break  # the deadline comes first and cuts them itself
                _done, late = await asyncio.wait(pending, timeout=grace)
                return late
        if pending:
            await asyncio.wait(pending)
        return set()

    def _mark_settled(self, member: Member) -> None:
        call = next((c for c in reversed(self.trace.calls) if c.member == member.name), None)
        if call is not None:
            call.stopped = "settled"
        self.trace.note(f"settled without {member.name}: it had not answered within the grace "
                        f"after the first member's answer")

    async def check(self, candidates: Sequence[Candidate]) -> None:
        """Run every enabled check; a check that raises is recorded and skipped."""
        for check in self.checks:
            try:
                await check.run(self.request, candidates)
            except Exception as error:
                self.trace.note(f"check {check.name} failed and was skipped: {_describe(error)}")
                log.exception("check %s failed", check.name)

    def rank(self, candidates: Sequence[Candidate]) -> list[Candidate]:
        """Best first, by the configured scorer ensemble (evidence, trained ranker)."""
        priors = {m.name: m.config.quality for m in self.members}
        return rank_candidates(candidates, self.request, priors, self.ranking, self.trace.note)

    def result(self, ranked: list[Candidate], stop_reason: str) -> Result:
        """The answer: `ranked` best first, less any empty answer, which never wins."""
        empty = [c for c in ranked if not c.text.strip()]
        if empty:
            ranked = [c for c in ranked if c.text.strip()]
            members = ", ".join(sorted({c.member for c in empty}))
            self.trace.note(f"left out {len(empty)} empty answer(s) ({members})")
        self.trace.stop_reason = stop_reason
        text = ranked[0].text if ranked else ""
        return Result(text=text, strategy=self.trace.strategy, candidates=ranked, trace=self.trace)

    @property
    def answered(self) -> bool:
        """Some member has produced a snippet with text in it."""
        return self._answered.is_set()

    def reject_answers(self) -> None:
        """The strategy will not stop at any snippet so far (its checks rejected them): until a
        member produces another, calls run to the hard cap, as before the first answer, not to
        the deadline, so that a late answer can replace a wrong one."""
        self._answered.clear()

    def seconds_left(self) -> float | None:
        """How long a member call may still run: to the deadline once a snippet exists, to
        the hard cap while none does (a late answer beats none)."""
        return self.request.seconds_left() if self.answered else self.request.seconds_to_cap()

    async def _generate_within_deadline(
        self, member: Member, prompt: Any, params: GenerationParams
    ) -> list[Generation]:
        token = self.cancel.child()
        left = self.seconds_left()
        if left is not None and left <= 0:
            raise TimeoutError(self._overdue_message())
        work = asyncio.ensure_future(member.generate(prompt, params, token, self.seconds_left, self.trace.note))
        try:
            await self._until_due(work)
        except asyncio.CancelledError:
            token.cancel()
            await _stop([work])  # the backend has stopped before the cancellation goes on
            raise
        if not work.done():
            token.cancel()
            await _stop([work])
            message = self._overdue_message()
            raise TimeoutError(f"{message}; queued, not started" if token.queued and not token.started else message)
        return work.result()

    async def _until_due(self, work: asyncio.Future[list[Generation]]) -> None:
        """Wait for `work`, until the deadline if a snippet exists by then, else until the
        first snippet (from any member) or the hard cap."""
        await asyncio.wait({work}, timeout=self.request.seconds_left())
        if work.done() or self.answered:
            return
        first = asyncio.ensure_future(self._answered.wait())
        try:
            await asyncio.wait({work, first}, timeout=self.request.seconds_to_cap(),
                               return_when=asyncio.FIRST_COMPLETED)
        finally:
            first.cancel()

    def _overdue_message(self) -> str:
        budget = self.request.budget
        if self.answered or budget.hard_cap_s is None:
            return f"deadline of {budget.deadline_s}s exceeded"
        return (f"no answer within the hard cap of {budget.hard_cap_s}s "
                f"(raise [engine] hard_cap_s, or [server] inline_hard_cap_s for completions)")

    def _candidate(self, member: Member, prompt_kind: str, generation: Generation,
                   label: str | None = None) -> Candidate:
        text = clean(generation.text, self.request, from_chat=prompt_kind == "chat")
        return Candidate(
            member=member.name,
            text=text,
            prompt_kind=label or prompt_kind,
            raw_text=generation.text,
            tokens=generation.tokens,
            mean_logprob=generation.mean_logprob,
            seconds=generation.seconds,
            cost=member.cost_of(generation.tokens),
        )

    def cost_so_far(self) -> float:
        """What this request's member calls have cost so far, in the members' price unit."""
        return sum(call.cost for call in self.trace.calls)


def _answered(task: asyncio.Future[list[Candidate]]) -> bool:
    return task.done() and not task.cancelled() and task.exception() is None and bool(task.result())


_stopping: set[asyncio.Future[Any]] = set()  # settled-out calls still stopping, kept alive


def _let_go(task: asyncio.Future[Any]) -> bool:
    """Cancel a settled-out call without waiting: its backend stops at its next token while
    the answer goes out (the model stays busy until then, which the scheduler sees to)."""
    if not task.cancel():
        return False
    _stopping.add(task)
    task.add_done_callback(_stopping.discard)
    return True


async def _stop(tasks: Iterable[asyncio.Future[Any]]) -> None:
    """Cancel the tasks and wait until they have stopped (their backends included)."""
    stopping = list(tasks)
    for task in stopping:
        task.cancel()
    await asyncio.gather(*stopping, return_exceptions=True)


def _describe(error: BaseException) -> str:
    message = str(error) or type(error).__name__
    return f"{type(error).__name__}: {message}" if str(error) else message
