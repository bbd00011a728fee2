from codequorum.server.suggestions import suggestions_from
from codequorum.vocabulary.candidate import Candidate
from codequorum.vocabulary.result import Result, Trace


def result(*texts: str) -> Result:
    candidates = [Candidate(member=f"m{i}", text=t, prompt_kind="fim", score=-i) for i, t in enumerate(texts)]
    return Result(texts[0], "best-of", candidates, Trace("best-of"))


def test_keeps_the_ranking_and_drops_empty_and_repeated_snippets():
    got = suggestions_from(result("a + b", "  ", "a + b", "a - b"), limit=5)
    assert [(s.text, s.member) for s in got] == [("a + b", "m0"), ("a - b", "m3")]


def test_returns_at_most_the_limit():
    assert len(suggestions_from(result("a", "b", "c"), limit=2)) == 2
