"""The small typed protocols every plugin kind implements.

Built-in plugins implement these exactly like third-party ones and are registered through
the entry-point groups named in `GROUPS`.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar, Literal, Protocol, runtime_checkable

from codequorum.core.candidate import Candidate
from codequorum.core.request import Request

if TYPE_CHECKING:
    from codequorum.config import MemberConfig
    from codequorum.core.context import StrategyContext
    from codequorum.core.result import Result
    from codequorum.runtime import Runtime

GROUPS = {
    "backends": "codequorum.backends",
    "strategies": "codequorum.strategies",
    "checks": "codequorum.checks",
    "languages": "codequorum.languages",
}

PluginKind = Literal["backends", "strategies", "checks", "languages"]


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


@dataclass(frozen=True)
class Generation:
    """One sample as the backend produced it, before any clean-up."""

    text: str
    tokens: int
    prompt_tokens: int
    seconds: float
    mean_logprob: float | None = None
    finish_reason: str = "stop"  # "stop", "length" or "cancelled"


class CancelToken:
    """Set once to ask running work to stop between tokens; children follow their parent."""

    def __init__(self, parent: CancelToken | None = None) -> None:
        self._event = threading.Event()
        self._parent = parent

    def cancel(self) -> None:
        self._event.set()

    def child(self) -> CancelToken:
        return CancelToken(parent=self)

    @property
    def cancelled(self) -> bool:
        return self._event.is_set() or (self._parent is not None and self._parent.cancelled)


@runtime_checkable
class Backend(Protocol):
    """Talks to one model. Constructed as `Backend(member_config, runtime)`."""

    def __init__(self, member: MemberConfig, runtime: Runtime) -> None: ...

    @property
    def supports_fim(self) -> bool: ...

    async def generate(
        self, prompt: Prompt, params: GenerationParams, cancel: CancelToken
    ) -> list[Generation]: ...

    async def aclose(self) -> None: ...


class Strategy(Protocol):
    """A recipe over members, checks and ranking. Constructed as `Strategy(options)`.

    A strategy that needs more of a member than `generate` (the token-level mixing of
    `logit-fusion`) sets `replayable = False`: the benchmark then runs it on the real members
    instead of replaying their collected answers.
    """

    name: ClassVar[str]

    def __init__(self, options: dict[str, Any]) -> None: ...

    async def run(self, ctx: StrategyContext) -> Result: ...


class Check(Protocol):
    """Turns candidates into evidence, stored under `candidate.checks[name]`.

    Constructed as `Check(runtime)`. It must tolerate any candidate text.
    """

    name: ClassVar[str]

    async def run(self, request: Request, candidates: Sequence[Candidate]) -> None: ...
