"""Selection decisions that rest on the real checks: the visible tests run in the real sandbox.
The members are scripted (their texts are real code); the checks, sandbox and ranking are real."""

from __future__ import annotations

import pytest

from codequorum.core.engine import Engine
from codequorum.vocabulary.request import Request, TaskKind
from tests.unit.doubles import scripted_registry, scripted_settings

pytestmark = pytest.mark.e2e

REQUEST = Request(TaskKind.GENERATE, language="python",
                  instruction="Write clamp(x, low, high): x limited to the range [low, high].",
                  tests="assert clamp(5, 0, 3) == 3\nassert clamp(-2, 0, 3) == 0\nassert clamp(2, 0, 3) == 2\n")
RIGHT = "def clamp(x, low, high):\n    return max(low, min(x, high))\n"
# Two spellings of one wrong behaviour: they forget the lower bound, so they fail the same test.
WRONG = "def clamp(x, low, high):\n    return min(x, high)\n"
WRONG_TOO = "def clamp(x, low, high):\n    return x if x < high else high\n"


def engine(members: dict[str, list[str]]) -> Engine:
    configured = {name: {"quality": 0.5, "options": {"replies": [f"```python\n{r}```" for r in replies]}}
                  for name, replies in members.items()}
    return Engine(scripted_settings(configured, ranking={"listwise": False}),
                  scripted_registry(disabled=frozenset()))


async def test_vote_prefers_one_passing_answer_to_a_larger_cluster_that_fails_a_test():
    result = await engine({"a": [WRONG, RIGHT], "b": [WRONG_TOO, WRONG]}).run(
        REQUEST, strategy="vote", options={"samples": 2})
    assert result.text.strip() == RIGHT.strip()
    assert result.best.tests.all_passed
    assert "clusters by behaviour on tests: 3 (a, b×2), 1 (a)" in result.trace.events
    assert result.trace.stop_reason == "largest cluster passing the checks: 1 of 4 candidates (a)"


async def test_moa_stops_when_the_proposals_agree_and_pass_the_tests():
    result = await engine({"a": [RIGHT, WRONG], "b": [RIGHT, WRONG]}).run(REQUEST, strategy="moa")
    assert [call.member for call in result.trace.calls] == ["a", "b"]
    assert "stopped: layer 1's answers agree and pass the checks, nothing to synthesise" in result.trace.events
    assert result.text.strip() == RIGHT.strip()


async def test_moa_synthesises_proposals_that_agree_but_fail_the_tests():
    result = await engine({"a": [WRONG, RIGHT, RIGHT], "b": [WRONG, RIGHT]}).run(
        REQUEST, strategy="moa", options={"layers": 1})
    assert [call.member for call in result.trace.calls] == ["a", "b", "a"]
    assert result.text.strip() == RIGHT.strip()
    assert result.best.tests.all_passed
