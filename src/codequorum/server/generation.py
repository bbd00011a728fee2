"""`generate`: code from an instruction in the document, as text to insert after it."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from codequorum.server.completion_service import CompletionEngine
from codequorum.server.instructions import GenerateSite, indent_code
from codequorum.server.prompt_window import prompt_window
from codequorum.server.stopping import run_stoppable
from codequorum.vocabulary.cancel import CancelToken
from codequorum.vocabulary.request import Budget, Request, TaskKind
from codequorum.vocabulary.result import Result

PREFIX_CHARS = 4000
SUFFIX_CHARS = 2000


@dataclass(frozen=True)
class GenerateJob:
    text: str  # the document
    site: GenerateSite
    language: str | None
    path: Path | None
    strategy: str | None
    max_tokens: int
    deadline_s: float | None
    members: tuple[str, ...] = ()  # none = every enabled member


@dataclass(frozen=True)
class GeneratedCode:
    insert_at: int
    text: str  # what to insert ("" when no member produced code)
    result: Result


async def generate(engine: CompletionEngine, job: GenerateJob, cancel: CancelToken) -> GeneratedCode:
    result = await run_stoppable(engine.run(_request(job), job.strategy, list(job.members) or None,
                                             cancel=cancel), cancel)
    if not result.text.strip():
        return GeneratedCode(job.site.insert_at, "", result)
    at = job.site.insert_at
    lead = "" if at == 0 or job.text[at - 1] == "\n" else "\n"
    return GeneratedCode(at, lead + indent_code(result.text, job.site.indent), result)


def _request(job: GenerateJob) -> Request:
    window = prompt_window(job.text, job.site.insert_at, PREFIX_CHARS, SUFFIX_CHARS)
    return Request(
        TaskKind.GENERATE,
        language=job.language,
        prefix=window.text[:window.cursor],
        suffix=window.text[window.cursor:],
        instruction=job.site.instruction,
        path=job.path,
        max_tokens=job.max_tokens,
        budget=Budget(deadline_s=job.deadline_s),
    )
