"""The syntax check: does each candidate parse where it would be inserted?"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from typing import TYPE_CHECKING, ClassVar

from codequorum.plugins.languages.base import Language, SyntaxVerdict
from codequorum.vocabulary.candidate import Candidate
from codequorum.vocabulary.evidence import SyntaxDetail
from codequorum.vocabulary.request import Request, TaskKind

if TYPE_CHECKING:
    from codequorum.core.runtime import Runtime

log = logging.getLogger(__name__)


class SyntaxCheck:
    """Sets `evidence.syntax` to True/False (None without a grammar for the request's
    language) and `evidence.syntax_detail` (new errors, balanced, complete).

    COMPLETE candidates are parsed in place between the request's prefix and suffix;
    GENERATE and FIX candidates are whole programs and are parsed alone.
    """

    name: ClassVar[str] = "syntax"

    def __init__(self, runtime: Runtime) -> None:
        self._languages = runtime.languages

    async def run(self, request: Request, candidates: Sequence[Candidate]) -> None:
        if not candidates:
            return
        texts = [candidate.text for candidate in candidates]
        try:
            verdicts = await asyncio.to_thread(self._verdicts, request, texts)
        except Exception:
            log.exception("syntax check failed")
            verdicts = [None] * len(texts)
        for candidate, verdict in zip(candidates, verdicts, strict=True):
            _record(candidate, verdict)

    def _verdicts(self, request: Request, texts: list[str]) -> list[SyntaxVerdict | None]:
        language = self._language_for(request)
        if language is None:
            return [None] * len(texts)
        return [_verdict(language, request, text) for text in texts]

    def _language_for(self, request: Request) -> Language | None:
        plugin: Language | None = self._languages.plugin(self._languages.name_for(request.language, request.path))
        return plugin


def _verdict(language: Language, request: Request, text: str) -> SyntaxVerdict | None:
    try:
        if request.kind is TaskKind.COMPLETE:
            return language.insertion_verdict(request.prefix, text, request.suffix)
        return language.insertion_verdict("", text, "")
    except Exception:  # a grammar or plugin bug must not fail the request
        log.exception("syntax check failed in language %r", getattr(language, "name", "?"))
        return None


def _record(candidate: Candidate, verdict: SyntaxVerdict | None) -> None:
    evidence = candidate.evidence
    evidence.syntax = verdict.ok if verdict is not None else None
    evidence.syntax_detail = None if verdict is None else \
        SyntaxDetail(verdict.new_errors, verdict.balanced, verdict.complete)
