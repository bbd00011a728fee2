from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from codequorum.core.languages import Languages
from codequorum.plugins.checks.syntax import SyntaxCheck
from codequorum.vocabulary.evidence import SyntaxDetail
from codequorum.plugins.languages.base import SyntaxVerdict
from codequorum.plugins.languages.javascript import JavaScriptLanguage
from codequorum.plugins.languages.python import PythonLanguage
from codequorum.vocabulary.candidate import Candidate
from codequorum.vocabulary.request import Request, TaskKind


class FakeRegistry:
    def __init__(self, languages: dict[str, type]) -> None:
        self.languages = languages

    def load_all(self, kind: str) -> dict[str, Any]:
        assert kind == "languages"
        return dict(self.languages)


def make_check(**languages: type) -> SyntaxCheck:
    languages = languages or {"python": PythonLanguage, "javascript": JavaScriptLanguage}
    return SyntaxCheck(SimpleNamespace(languages=Languages(FakeRegistry(languages))))  # type: ignore[arg-type]


def candidates(*texts: str) -> list[Candidate]:
    return [Candidate(member="m", text=text, prompt_kind="fim") for text in texts]


async def test_completions_are_checked_in_place():
    request = Request(TaskKind.COMPLETE, "python", prefix="def add(a, b):\n    ", suffix="\n")
    good, bad = candidates("return a + b", "return a +")
    await make_check().run(request, [good, bad])
    assert good.evidence.syntax is True and good.syntax_ok is True
    assert good.evidence.syntax_detail == SyntaxDetail(new_errors=0, balanced=True, complete=True)
    assert bad.evidence.syntax is False
    assert bad.evidence.syntax_detail is not None and bad.evidence.syntax_detail.new_errors >= 1


async def test_the_same_text_depends_on_where_it_goes():
    # A closing parenthesis is right after an open call and wrong after a finished line.
    open_call = Request(TaskKind.COMPLETE, "python", prefix="print(a, ", suffix="\n")
    finished = Request(TaskKind.COMPLETE, "python", prefix="print(a)\n", suffix="\n")
    first, second = candidates("b)", "b)")
    await make_check().run(open_call, [first])
    await make_check().run(finished, [second])
    assert first.evidence.syntax is True and second.evidence.syntax is False


async def test_generated_code_is_checked_alone():
    request = Request(TaskKind.GENERATE, "python", prefix="x = (", instruction="write f")
    good, bad = candidates("def f(x):\n    return x * 2\n", "def f(x)\n    return x * 2\n")
    await make_check().run(request, [good, bad])
    assert good.evidence.syntax is True and bad.evidence.syntax is False


async def test_fix_candidates_are_whole_programs():
    request = Request(TaskKind.FIX, "javascript", prefix="function f( {}\n", instruction="fix it")
    fixed, = candidates("function f() {\n  return 1;\n}\n")
    await make_check().run(request, [fixed])
    assert fixed.evidence.syntax is True


async def test_unknown_language_gives_none():
    request = Request(TaskKind.COMPLETE, "cobol", prefix="DISPLAY ", suffix="\n")
    candidate, = candidates("'HELLO'.")
    await make_check().run(request, [candidate])
    assert candidate.evidence.syntax is None and candidate.syntax_ok is None
    assert candidate.evidence.syntax_detail is None


async def test_no_language_at_all_gives_none():
    candidate, = candidates("x = 1")
    await make_check().run(Request(TaskKind.COMPLETE, prefix="", suffix=""), [candidate])
    assert candidate.evidence.syntax is None


@pytest.mark.parametrize(("language", "path"), [(None, "src/app.js"), ("plaintext", "app.js"),
                                                ("javascriptreact", None), ("js", None)])
async def test_language_is_found_by_alias_tag_or_path(language, path):
    request = Request(TaskKind.COMPLETE, language, prefix="const x = ", suffix=";\n",
                      path=Path(path) if path else None)
    good, bad = candidates("[1, 2]", "[1, 2")
    await make_check().run(request, [good, bad])
    assert good.evidence.syntax is True and bad.evidence.syntax is False


class ExplodingLanguage(PythonLanguage):
    def insertion_verdict(self, prefix: str, snippet: str, suffix: str) -> SyntaxVerdict:
        if "boom" in snippet:
            raise RuntimeError("grammar bug")
        return super().insertion_verdict(prefix, snippet, suffix)


async def test_an_exception_inside_a_language_is_contained(caplog):
    request = Request(TaskKind.COMPLETE, "python", prefix="x = ", suffix="\n")
    boom, fine = candidates("boom", "1")
    await make_check(python=ExplodingLanguage).run(request, [boom, fine])
    assert boom.evidence.syntax is None
    assert fine.evidence.syntax is True
    assert "grammar bug" in caplog.text


class UnloadableLanguage(PythonLanguage):
    def __init__(self) -> None:
        raise OSError("grammar ABI mismatch")


async def test_a_language_that_cannot_start_is_contained(caplog):
    request = Request(TaskKind.COMPLETE, "python", prefix="x = ", suffix="\n")
    candidate, = candidates("1")
    await make_check(python=UnloadableLanguage).run(request, [candidate])
    assert candidate.evidence.syntax is None
    assert "ABI mismatch" in caplog.text


async def test_no_candidates_is_fine():
    await make_check().run(Request(TaskKind.COMPLETE, "python"), [])


def test_check_name():
    assert SyntaxCheck.name == "syntax"
