from codequorum.server.suggestions import fit_to_scope, suggestions_from
from codequorum.vocabulary.candidate import Candidate
from codequorum.vocabulary.result import Result, Trace


def result(*texts: str) -> Result:
    candidates = [Candidate(member=f"m{i}", text=t, prompt_kind="fim", score=-i) for i, t in enumerate(texts)]
    return Result(texts[0], "best-of", candidates, Trace("best-of"))


def test_keeps_the_ranking_and_drops_empty_and_repeated_snippets():
    got = suggestions_from(result("a + b", "  ", "a + b", "a - b"), "block", "\n", limit=5)
    assert [(s.text, s.member) for s in got] == [("a + b", "m0"), ("a - b", "m3")]


def test_returns_at_most_the_limit():
    assert len(suggestions_from(result("a", "b", "c"), "block", "", limit=2)) == 2


def test_line_scope_cuts_every_snippet_to_its_first_line_before_deduplicating():
    got = suggestions_from(result("x)\n    y", "x)\n    z", "\nonly later lines"), "line", "\n", limit=5)
    assert [s.text for s in got] == ["x)"]


def test_fit_to_scope_keeps_blocks_whole():
    assert fit_to_scope("a\nb\n", "block", "") == "a\nb\n"
    assert fit_to_scope("a  \nb", "line", "") == "a"


def test_line_scope_drops_what_the_line_already_has_after_the_cursor():
    assert fit_to_scope("values))\nprint(values)", "line", "))\n") == "values"
    got = suggestions_from(result("values))\nx", "values)"), "line", "))\nnext()\n", limit=5)
    assert [s.text for s in got] == ["values"]
