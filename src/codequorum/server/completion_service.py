"""Completions under latency discipline, independent of the protocol.

One call of `complete` goes: cache (exact or typed-through) → debounce → engine run under a
deadline → ranked suggestions, which are cached. The run answers soon after its fastest member
(the budget's settle ratio); members cut short then finish in a background *refinement* whose
ranking replaces the cached answer, so repeated and typed-through requests get the whole
ensemble's answer. When the strategy answered without asking some members (the `confidence`
ladder stops at the strongest member's usable snippet), those members *warm* instead: they read
the same prompt into their KV cache in the background, so that where the ladder falls back to
them at the next place in the file, their prompt is mostly cached. When a document is opened
(`warm_open`), the same members read the start of its prompt, as if the cursor were at the end
of its first prompt window, so that the first completion in it starts mostly warm; the service
has one such *open-warming* at a time: a newer opened document replaces it, and closing the
document stops it. It waits for the warm-up (loading the models), whose prompt would otherwise
take the KV cache's place, and while a query is in progress. A request that needs the models
stops every refinement and warming, the open-warming included. A newer query for the same
document supersedes an older one: the older one's CancelToken is set, so its backends stop at
their next token and its caller gets no suggestions. A caller that is cancelled (the client's
`$/cancelRequest` cancels the asyncio task) sets the token too and waits until the backends have
stopped, so no model keeps working for a reply nobody will read.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Coroutine, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Literal, Protocol

from codequorum.config import Settings
from codequorum.server.cache import CacheKey, PrefixCache
from codequorum.server.prompt_window import prompt_window
from codequorum.server.stats import RunSummary, ServerStats
from codequorum.server.stopping import run_stoppable
from codequorum.server.suggestions import Suggestion, suggestions_from
from codequorum.testing.python_tests import shows_examples
from codequorum.vocabulary.cancel import CancelToken
from codequorum.vocabulary.request import Budget, ContextSnippet, Request, TaskKind, completion_request
from codequorum.vocabulary.result import Result
from codequorum.vocabulary.scope import Scope

log = logging.getLogger(__name__)

MIN_DEADLINE_S = 0.05  # a query that waited out its whole budget still gets one short try


class CompletionEngine(Protocol):
    """The part of `core.engine.Engine` the service uses."""

    async def run(
        self,
        request: Request,
        strategy: str | None = None,
        members: Sequence[str] | None = None,
        options: dict[str, Any] | None = None,
        cancel: CancelToken | None = None,
    ) -> Result: ...


@dataclass(frozen=True)
class CompletionQuery:
    document: str  # a newer query for the same document supersedes an older one
    text: str  # the whole document
    offset: int  # the cursor
    language: str | None = None
    path: Path | None = None
    scope: Scope = "block"
    context: tuple[ContextSnippet, ...] = ()
    received_at: float = field(default_factory=time.monotonic)
    members: tuple[str, ...] | None = None  # this language's members (config.inline_members_for), else the policy's

    def cache_key(self) -> CacheKey:
        return CacheKey(self.text[:self.offset], self.text[self.offset:])


CheapestFirst = Literal["never", "always", "examples"]
CONFIDENCE_DEFAULT_ORDER = "cheapest-verified"  # `confidence`'s default `order` (a plugin's option)


@dataclass(frozen=True)
class CompletionPolicy:
    """The settings the service works by, taken from `[server]`."""

    debounce_s: float = 0.075
    deadline_s: float = 5.0  # once a snippet exists, stop waiting for more
    hard_cap_s: float = 30.0  # with none yet, wait for the first one up to this
    settle_ratio: float | None = 0.1
    refine: bool = True
    warm_members: frozenset[str] = frozenset()  # members whose backend keeps the prompt cached in process
    open_warm_members: tuple[str, ...] = ()  # [server] warm_on_open: those members, strongest first
    open_warm_cheapest_first: tuple[str, ...] = ()  # the same members, cheapest first
    cheapest_first: CheapestFirst = "never"  # when the ladder asks (and open-warming warms) cheapest first
    strategy: str | None = "confidence"  # as [server] inline_strategy; None = [engine] strategy
    members: tuple[str, ...] | None = None
    block_max_tokens: int = 256
    line_max_tokens: int = 64
    prefix_chars: int = 1200
    suffix_chars: int = 400
    limit: int = 4  # the best suggestion and its alternatives

    @classmethod
    def from_settings(cls, settings: Settings) -> CompletionPolicy:
        config = settings.server
        return cls(
            debounce_s=config.debounce_ms / 1000,
            deadline_s=config.inline_deadline_s,
            hard_cap_s=config.inline_hard_cap_s,
            settle_ratio=None if config.inline_wait_for_all else config.inline_settle_ratio,
            refine=config.background_refine,
            warm_members=frozenset(_prompt_caching_ladder(settings)) if config.warm_fallbacks else frozenset(),
            open_warm_members=_prompt_caching_ladder(settings) if config.warm_on_open else (),
            open_warm_cheapest_first=(_prompt_caching_ladder(settings, cheapest_first=True)
                                      if config.warm_on_open else ()),
            cheapest_first=_cheapest_first_when(settings),
            strategy=config.inline_strategy,
            members=completion_members(settings),
            block_max_tokens=config.inline_max_tokens,
            line_max_tokens=config.line_max_tokens,
            prefix_chars=config.prefix_chars,
            suffix_chars=config.suffix_chars,
            limit=1 + config.alternatives,
        )

    def max_tokens(self, scope: Scope) -> int:
        return self.line_max_tokens if scope == "line" else self.block_max_tokens

    def request(self, query: CompletionQuery, budget: Budget = Budget()) -> Request:
        """The engine request for `query`: its prompt window, scope and token bound."""
        window = prompt_window(query.text, query.offset, self.prefix_chars, self.suffix_chars)
        return completion_request(
            window.text, window.cursor,
            language=query.language,
            path=query.path,
            context=query.context,
            max_tokens=self.max_tokens(query.scope),
            scope=query.scope,
            budget=budget,
        )


def completion_members(settings: Settings) -> tuple[str, ...] | None:
    """`[server] inline_members`, else every enabled member that fills in the middle: a
    chat-only model answers a completion later (a longer prompt, a code block to wrap it)
    and worse. None (every enabled member) when no member has a FIM template."""
    if settings.server.inline_members is not None:
        return tuple(settings.server.inline_members)
    return tuple(m.name for m in settings.enabled_members() if m.fim) or None


# Backends whose model keeps the last prompt's KV cache between calls in this process. A remote
# member is not warmed: a token there may be billed, and its server's cache is not ours to fill.
PROMPT_CACHING_BACKENDS = frozenset({"llama-cpp"})


def _prompt_caching_ladder(settings: Settings, cheapest_first: bool = False) -> tuple[str, ...]:
    """The members whose backend caches prompts, strongest first (or cheapest first)."""
    members = settings.enabled_members()
    ladder = sorted(members, key=lambda m: m.price_per_1k_tokens) if cheapest_first else \
        sorted(members, key=lambda m: m.quality, reverse=True)
    return tuple(m.name for m in ladder if m.backend in PROMPT_CACHING_BACKENDS)


def _cheapest_first_when(settings: Settings) -> CheapestFirst:
    """When the inline `confidence` ladder asks the cheapest member first (its `order`), so that
    warming on open reads the prompt of the member asked first before the others'."""
    name, options = settings.resolve_strategy(settings.server.inline_strategy)
    if name != "confidence":
        return "never"
    order = options.get("order", CONFIDENCE_DEFAULT_ORDER)
    return {"cheapest": "always", "cheapest-verified": "examples"}.get(str(order), "never")


@dataclass(frozen=True)
class Refinement:
    """A background run for a cached answer: finishing its members, or warming the others."""

    key: CacheKey  # the cache entry it will replace
    token: CancelToken


@dataclass(frozen=True)
class OpenWarming:
    """The background prompt read of a newly opened document; the service has at most one."""

    document: str
    token: CancelToken


REFINE_DEADLINE_FACTOR = 2  # a refinement gets this many inline deadlines: nobody waits on it


class CompletionService:
    def __init__(
        self, engine: CompletionEngine, policy: CompletionPolicy, stats: ServerStats, cache: PrefixCache
    ) -> None:
        self.engine = engine
        self.policy = policy
        self.stats = stats
        self.cache = cache
        self._jobs: dict[str, CancelToken] = {}  # the newest query's token per document
        self._refinements: dict[str, Refinement] = {}  # per document
        self._open_warming: OpenWarming | None = None
        self._loaded: asyncio.Event | None = None  # set once the warm-up is over; None: none began
        self._idle = asyncio.Event()  # set while no query is in progress
        self._idle.set()
        self._background: set[asyncio.Task[None]] = set()  # keeps refinement tasks alive

    async def complete(self, query: CompletionQuery) -> tuple[Suggestion, ...]:
        """Ranked suggestions for the cursor; none when superseded by a newer query."""
        self.stats.requests += 1
        token = self._supersede(query.document)
        self._idle.clear()
        try:
            return await self._complete(query, token)
        except asyncio.CancelledError:
            self.stats.cancelled += 1
            raise
        finally:
            if self._jobs.get(query.document) is token:
                del self._jobs[query.document]
            if not self._jobs:
                self._idle.set()

    def stop_all(self) -> None:
        """Stop every query in progress (the configuration changed, or the client left)."""
        for token in self._jobs.values():
            token.cancel()
        self._stop_refinements()
        self._stop_open_warming()

    async def warm_up(self) -> None:
        """Load every completion member's model now rather than on the first keystroke."""
        started = time.monotonic()
        self._loaded = asyncio.Event()
        try:
            request = Request(TaskKind.COMPLETE, prefix="def main():\n    ", max_tokens=1)
            result = await self.engine.run(request, self.policy.strategy, self.policy.members)
        finally:
            self._loaded.set()
        for call in result.trace.errors:
            log.warning("warm-up: member %s failed: %s", call.member, call.error)
        self.stats.warm_up_seconds = round(time.monotonic() - started, 3)

    def warm_open(self, query: CompletionQuery) -> bool:
        """Have the prompt-caching members of a newly opened document read its prompt in the
        background, replacing the open-warming of an earlier one; False when none would."""
        if not self._warmable(query, self.policy.open_warm_members):
            return False
        self._stop_open_warming()
        warming = self._open_warming = OpenWarming(query.document, CancelToken())
        self._spawn(self._warm_open(query, warming))
        self.stats.open_warmings += 1
        return True

    def document_closed(self, document: str) -> None:
        """Stop the background work for `document` (its open-warming, its refinement or
        warming): nobody will complete in it."""
        if self._open_warming is not None and self._open_warming.document == document:
            self._stop_open_warming()
        refinement = self._refinements.pop(document, None)
        if refinement is not None:
            refinement.token.cancel()
            self.stats.refinements_stopped += 1

    async def _complete(self, query: CompletionQuery, token: CancelToken) -> tuple[Suggestion, ...]:
        hit = self.cache.lookup(query.cache_key())
        self.stats.record_cache(hit is not None, bool(hit and hit.typed))
        if hit is not None:
            self._stop_refinements(keep=hit.key)
            return hit.suggestions
        await asyncio.sleep(self.policy.debounce_s)
        if token.cancelled:
            self.stats.debounced += 1
            return ()
        self._stop_refinements()  # the models are needed now
        self._stop_open_warming()
        result = await self._run(query, token)
        if token.cancelled:
            self.stats.superseded += 1
            return ()
        suggestions = self._suggestions(query, result)
        self.cache.store(query.cache_key(), suggestions)
        if self.policy.refine and _cut_short(result):
            self._start_refinement(query, suggestions)
        elif waiting := self._not_asked(query, result):
            self._start_warming(query, waiting)
        return suggestions

    def _suggestions(self, query: CompletionQuery, result: Result) -> tuple[Suggestion, ...]:
        return suggestions_from(result, self.policy.limit)

    def _in_background(self, query: CompletionQuery,
                       work: Callable[[Refinement], Coroutine[Any, Any, None]]) -> None:
        """Run `work` for the document's background slot, which a request needing the models stops."""
        refinement = Refinement(query.cache_key(), CancelToken())
        self._refinements[query.document] = refinement
        self._spawn(work(refinement))

    def _spawn(self, work: Coroutine[Any, Any, None]) -> None:
        task = asyncio.create_task(work)
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    def _start_refinement(self, query: CompletionQuery, answered: tuple[Suggestion, ...]) -> None:
        self._in_background(query, lambda refinement: self._refine(query, refinement, answered))
        self.stats.refinements += 1
        self.stats.refining += 1

    async def _refine(self, query: CompletionQuery, refinement: Refinement,
                      answered: tuple[Suggestion, ...]) -> None:
        try:
            request = self._request(query, background=True)
            result = await self.engine.run(request, self.policy.strategy, query.members or self.policy.members,
                                           cancel=refinement.token)
        except Exception:  # a refinement is a bonus: its failure must not reach anyone
            log.exception("background refinement failed")
            return
        finally:
            self.stats.refining -= 1
            if self._refinements.get(query.document) is refinement:
                del self._refinements[query.document]
        self.stats.record_run(result, stopped=refinement.token.cancelled)
        refined = self._suggestions(query, result)
        if refinement.token.cancelled or not refined:
            return
        self.cache.store(refinement.key, refined)
        self.stats.refinements_done += 1
        self.stats.refinements_changed += not answered or refined[0].text != answered[0].text

    def _not_asked(self, query: CompletionQuery, result: Result) -> list[str]:
        """The members to warm: completion members this run did not ask, that cache prompts."""
        asked = {call.member for call in result.trace.calls}
        members = query.members or self.policy.members or ()
        return [name for name in members if name not in asked and name in self.policy.warm_members]

    def _start_warming(self, query: CompletionQuery, members: list[str]) -> None:
        self._in_background(query, lambda warming: self._warm(query, warming, members))
        self.stats.warmings += 1

    async def _warm(self, query: CompletionQuery, warming: Refinement, members: list[str]) -> None:
        """Each member reads the prompt and makes one token: its KV cache then holds the
        document up to the cursor (prefill stops between chunks once the token is set)."""
        request = replace(self._request(query, background=True), max_tokens=1)
        try:
            for member in members:
                if warming.token.cancelled:
                    return
                result = await self.engine.run(request, "single", [member], cancel=warming.token)
                self.stats.last_warming = RunSummary.of(result)
            self.stats.warmings_done += not warming.token.cancelled
        except Exception:  # warming is a bonus: its failure must not reach anyone
            log.exception("background warming failed")
        finally:
            if self._refinements.get(query.document) is warming:
                del self._refinements[query.document]

    def _open_members(self, query: CompletionQuery) -> list[str]:
        """The members to warm for an opened document: its completion members that cache
        prompts (every one when no member list is set), in the order the ladder will ask them:
        strongest first, or cheapest first (always, or where a Python document shows docstring
        examples, which verify a cheap member's snippet: `testing/programs.py`'s suites are
        Python's)."""
        when = self.policy.cheapest_first
        cheap_first = when == "always" or (when == "examples" and query.language in (None, "python")
                                            and shows_examples(query.text))
        ladder = self.policy.open_warm_cheapest_first if cheap_first else self.policy.open_warm_members
        return self._warmable(query, ladder)

    def _warmable(self, query: CompletionQuery, ladder: tuple[str, ...]) -> list[str]:
        """Those of `ladder` that complete in the query's document (every one when no member
        list is set)."""
        members = query.members or self.policy.members
        return [name for name in ladder if members is None or name in members]

    async def _warm_open(self, query: CompletionQuery, warming: OpenWarming) -> None:
        """As `_warm`, for the service's one open-warming, after the warm-up. A member is asked
        only while no query is in progress: one that began before this warming does not stop
        it, and would wait for the member's whole prompt if it fell back to that member."""
        results: list[Result] = []
        try:
            # the order may parse the document's docstrings (up to ~0.1 s): off the event loop
            members = await asyncio.to_thread(self._open_members, query)
            if self._loaded is not None:
                await self._loaded.wait()
            request = replace(self._request(query, background=True), max_tokens=1)
            for member in members:
                await self._idle.wait()
                if warming.token.cancelled:
                    break
                results.append(await self.engine.run(request, "single", [member], cancel=warming.token))
            self.stats.open_warmings_done += not warming.token.cancelled
        except Exception:  # warming is a bonus: its failure must not reach anyone
            log.exception("warming the members on opening %s failed", query.document)
        finally:
            if self._open_warming is warming:
                self._open_warming = None
        for call in (call for result in results for call in result.trace.errors):
            log.warning("warming on open: member %s failed: %s", call.member, call.error)
        if results:
            self.stats.last_open_warming = RunSummary.of_runs(results)

    def _stop_open_warming(self) -> None:
        if self._open_warming is not None:
            self._open_warming.token.cancel()
            self._open_warming = None
            self.stats.open_warmings_stopped += 1

    def _stop_refinements(self, keep: CacheKey | None = None) -> None:
        """Stop the background refinements, but the one improving the entry `keep`."""
        for document, refinement in list(self._refinements.items()):
            if refinement.key != keep:
                refinement.token.cancel()
                del self._refinements[document]
                self.stats.refinements_stopped += 1

    def _supersede(self, document: str) -> CancelToken:
        previous = self._jobs.get(document)
        if previous is not None:
            previous.cancel()
        token = self._jobs[document] = CancelToken()
        return token

    async def _run(self, query: CompletionQuery, token: CancelToken) -> Result:
        work = self.engine.run(self._request(query), self.policy.strategy, query.members or self.policy.members,
                               cancel=token)
        self.stats.engine_runs += 1
        self.stats.active_runs += 1
        try:
            result = await run_stoppable(work, token, lambda r: self.stats.record_run(r, stopped=True))
        finally:
            self.stats.active_runs -= 1
        self.stats.record_run(result, stopped=token.cancelled)
        if result.candidates and _someone_missed_the_deadline(result):
            self.stats.deadline_fallbacks += 1
        self.stats.settled += any(call.stopped == "settled" for call in result.trace.calls)
        return result

    def _request(self, query: CompletionQuery, background: bool = False) -> Request:
        """The engine request; a background one waits for every member, for longer."""
        if background:
            budget = Budget(deadline_s=self.policy.deadline_s * REFINE_DEADLINE_FACTOR)
        else:
            waited = time.monotonic() - query.received_at
            deadline = max(self.policy.deadline_s - waited, MIN_DEADLINE_S)
            cap = max(self.policy.hard_cap_s - waited, MIN_DEADLINE_S)
            budget = Budget(deadline_s=deadline, hard_cap_s=cap, settle_ratio=self.policy.settle_ratio)
        return self.policy.request(query, budget)


def _someone_missed_the_deadline(result: Result) -> bool:
    return any(call.error and "deadline" in call.error for call in result.trace.calls)


def _cut_short(result: Result) -> bool:
    """Some member was stopped by settling or the deadline, so the whole ensemble may answer
    better given time."""
    return any(call.stopped == "settled" for call in result.trace.calls) or _someone_missed_the_deadline(result)
