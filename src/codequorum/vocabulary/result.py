"""What a strategy returns: the best snippet, ranked alternatives and a trace."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from codequorum.vocabulary.candidate import Candidate


@dataclass
class MemberCall:
    """One call to one member: how long it took, what it cost, whether it failed."""

    member: str
    prompt_kind: str
    samples: int
    tokens: int = 0
    prompt_tokens: int = 0
    seconds: float = 0.0  # wall time of the call, including waiting for a CPU slot
    compute_seconds: float = 0.0  # time the model spent generating
    cost: float = 0.0
    error: str | None = None
    stopped: str | None = None  # why it was stopped unfinished ("cancelled", "settled"); not a failure
    first_token_seconds: float | None = None  # of its first sample, the prompt's evaluation included
    cached_prompt_tokens: int = 0  # prompt tokens its KV cache already held
    drafted_tokens: int = 0  # speculative decoding: guesses checked, and how many were kept
    accepted_draft_tokens: int = 0


@dataclass
class Trace:
    strategy: str
    calls: list[MemberCall] = field(default_factory=list)
    events: list[str] = field(default_factory=list)  # decisions, in order
    stop_reason: str = ""
    seconds: float = 0.0

    def note(self, event: str) -> None:
        self.events.append(event)

    @property
    def errors(self) -> list[MemberCall]:
        return [call for call in self.calls if call.error]


@dataclass
class Result:
    text: str
    strategy: str
    candidates: list[Candidate]  # ranked, best first
    trace: Trace

    @property
    def best(self) -> Candidate | None:
        return self.candidates[0] if self.candidates else None

    def to_json_dict(self) -> dict[str, Any]:
        return {
            "text": self.text,
            "strategy": self.strategy,
            "candidates": [_candidate_json(c) for c in self.candidates],
            "trace": {
                "calls": [asdict(call) for call in self.trace.calls],
                "events": self.trace.events,
                "stop_reason": self.trace.stop_reason,
                "seconds": round(self.trace.seconds, 3),
            },
        }


def _candidate_json(candidate: Candidate) -> dict[str, Any]:
    return {
        "member": candidate.member,
        "text": candidate.text,
        "score": round(candidate.score, 4),
        "scores": {k: round(v, 4) for k, v in candidate.scores.items()},
        "checks": candidate.evidence.to_json(),
        "prompt_kind": candidate.prompt_kind,
        "tokens": candidate.tokens,
        "seconds": round(candidate.seconds, 3),
        "mean_logprob": candidate.mean_logprob,
    }

