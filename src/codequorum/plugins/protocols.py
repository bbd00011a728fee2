"""The small typed protocols every plugin kind implements.

Built-in plugins implement these exactly like third-party ones and are registered through
the entry-point groups named in `GROUPS`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, ClassVar, Literal, Protocol, runtime_checkable

from codequorum.vocabulary.cancel import CancelToken
from codequorum.vocabulary.candidate import Candidate
from codequorum.vocabulary.generation import ChatMessage, Generation, GenerationParams, Prompt
from codequorum.vocabulary.request import Request

if TYPE_CHECKING:
    from codequorum.config import MemberConfig
    from codequorum.core.context import StrategyContext
    from codequorum.runtime import Runtime
    from codequorum.vocabulary.result import Result

GROUPS = {
    "backends": "codequorum.backends",
    "strategies": "codequorum.strategies",
    "checks": "codequorum.checks",
    "languages": "codequorum.languages",
}

PluginKind = Literal["backends", "strategies", "checks", "languages"]

# The vocabulary plugins have always imported from here.
__all__ = [
    "GROUPS", "Backend", "CancelToken", "Candidate", "ChatMessage", "Check", "Generation",
    "GenerationParams", "PluginKind", "Prompt", "Request", "Strategy",
]


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
