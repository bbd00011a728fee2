from codequorum.plugins.strategies.rank import RankStrategy
from tests.unit.plugins.strategies.fakes import REQUEST, answer, engine, member


async def test_rank_returns_every_members_candidates_best_first_up_to_top_k():
    eng = engine({"a": member([answer(1), answer(2)], quality=0.9),
                  "b": member([answer(2), answer(3)], quality=0.5)})
    result = await eng.run(REQUEST, strategy="rank", options={"samples": 2})
    assert sorted(call.member for call in result.trace.calls) == ["a", "b"]
    assert len(result.candidates) == 3  # top_k of 4
    assert result.text.strip() == answer(2).strip()  # the two members agree on it
    scores = [c.score for c in result.candidates]
    assert scores == sorted(scores, reverse=True)
    assert "ranked by evidence (rule: mean)" in result.trace.events
    assert result.trace.stop_reason.endswith("; returned the top 3")


async def test_top_k_bounds_the_alternatives():
    eng = engine({"a": member([answer(1), answer(2), answer(3)])})
    result = await eng.run(REQUEST, strategy="rank", options={"samples": 3, "top_k": 1})
    assert len(result.candidates) == 1


async def test_rank_never_generates_tests():
    eng = engine({"a": member(["def add(a, b):\n    return a + b\n"])})
    result = await eng.run(REQUEST, strategy="rank", options={"generated_tests": True})
    assert len(result.trace.calls) == 1  # best-of would also have asked for tests
    assert RankStrategy({"generated_tests": "a"}).generated_tests is False


async def test_a_bad_top_k_is_reported_not_raised():
    result = await engine({"a": member([answer(1)])}).run(REQUEST, strategy="rank", options={"top_k": 0})
    assert result.candidates == [] and "top_k must be at least 1" in result.trace.events[0]
