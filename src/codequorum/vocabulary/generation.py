"""What a member is asked (a prompt and its sampling parameters) and what it answers."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal


@dataclass(frozen=True)
class ChatMessage:
    role: Literal["system", "user", "assistant"]
    content: str


@dataclass(frozen=True)
class Prompt:
    """A prompt ready for one member: raw text (FIM) or chat messages."""

    kind: Literal["fim", "chat"]
    text: str = ""
    messages: tuple[ChatMessage, ...] = ()
    stop: tuple[str, ...] = ()


@dataclass(frozen=True)
class GenerationParams:
    max_tokens: int = 128
    temperature: float = 0.0
    top_p: float = 0.95
    n: int = 1
    seed: int = 0
    stop: tuple[str, ...] = ()
    # Where the text so far should end (an offset), or None to go on: stops that plain
    # strings cannot express, e.g. "the code left the cursor's block". Checked per token.
    stop_at: Callable[[str], int | None] | None = None
    # Lower runs first when members queue for a local CPU slot; None: the member's price.
    queue_priority: float | None = None


@dataclass(frozen=True)
class Generation:
    """One sample as the backend produced it, before any clean-up."""

    text: str
    tokens: int
    prompt_tokens: int
    seconds: float  # what compute-seconds add up (llama.cpp: decoding, after the prompt is evaluated)
    mean_logprob: float | None = None
    finish_reason: str = "stop"  # "stop", "length" or "cancelled"
    first_token_seconds: float | None = None  # from the call's start, the prompt's evaluation included
    cached_prompt_tokens: int = 0  # prompt tokens the KV cache already held (local backends)
    drafted_tokens: int = 0  # speculative decoding: tokens guessed by the drafter
    accepted_draft_tokens: int = 0  # of which the model kept


@dataclass(frozen=True)
class SnippetScore:
    """How likely one model finds a given continuation of a prompt: the log-probability of each
    of its tokens given the prompt and the tokens before it (teacher-forced, no sampling)."""

    logprob_sum: float  # over the continuation's tokens
    tokens: int
    end_logprob: float | None = None  # of ending right after it (an end-of-text or stop token)

    @property
    def mean_logprob(self) -> float | None:
        """Per token; None for an empty continuation (nothing to judge)."""
        return self.logprob_sum / self.tokens if self.tokens else None

    @property
    def mean_logprob_with_end(self) -> float | None:
        """Per token, counting "the model would stop here" as one more token."""
        if not self.tokens or self.end_logprob is None:
            return self.mean_logprob
        return (self.logprob_sum + self.end_logprob) / (self.tokens + 1)
