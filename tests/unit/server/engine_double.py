"""An engine double for the completion service: scripted answers, observable cancellation."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

from codequorum.vocabulary.cancel import CancelToken
from codequorum.vocabulary.candidate import Candidate
from codequorum.vocabulary.request import Request
from codequorum.vocabulary.result import MemberCall, Result, Trace


class FakeEngine:
    """Answers with `answers` (member → text) after `steps` steps of `step_s` seconds each,
    one "token" per step; stops early, like a backend, once its CancelToken is set. With
    `answering`, only those members answer a run for every member (a ladder that stopped early);
    a run naming its members is answered by them."""

    def __init__(self, answers: dict[str, str], steps: int = 1, step_s: float = 0.0,
                 answering: Sequence[str] | None = None) -> None:
        self.answers = answers
        self.answering = answering
        self.steps = steps
        self.step_s = step_s
        self.requests: list[Request] = []
        self.asked: list[tuple[str | None, Sequence[str] | None]] = []  # (strategy, members)
        self.tokens: list[CancelToken] = []
        self.started = asyncio.Event()

    async def run(self, request: Request, strategy: str | None = None,
                  members: Sequence[str] | None = None, options: dict[str, Any] | None = None,
                  cancel: CancelToken | None = None) -> Result:
        token = cancel or CancelToken()
        self.requests.append(request)
        self.asked.append((strategy, members))
        self.tokens.append(token)
        self.started.set()
        done = 0
        while done < self.steps and not token.cancelled:
            await asyncio.sleep(self.step_s)
            done += 1
        trace = Trace(strategy=strategy or "best-of", stop_reason="stopped" if token.cancelled else "ranked")
        candidates = []
        answering = members if strategy == "single" and members else self.answering
        chosen = {m: t for m, t in self.answers.items() if answering is None or m in answering}
        for rank, (member, text) in enumerate(chosen.items()):
            trace.calls.append(MemberCall(member, "fim", 1, tokens=done))
            candidates.append(Candidate(member=member, text=text, prompt_kind="fim", score=-rank))
        return Result(candidates[0].text if candidates else "", trace.strategy, candidates, trace)
