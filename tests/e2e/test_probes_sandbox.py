"""Probe calls run in the real sandbox: candidates for a task without tests compared by the
values they return, and a cascade that resamples an answer no other candidate behaves like.
The members are scripted (their texts are real code); the sandbox and the checks are real."""

from __future__ import annotations

import pytest

from codequorum.core.engine import Engine
from codequorum.ranking.clusters import clusters
from codequorum.sandbox import SandboxLimits
from codequorum.testing.probes import Probes, record_probes
from codequorum.testing.python_tests import TestCase as Case
from codequorum.vocabulary.candidate import Candidate, TestOutcome
from codequorum.vocabulary.request import Request, TaskKind
from tests.unit.doubles import scripted_registry, scripted_settings

pytestmark = pytest.mark.e2e

REQUEST = Request(TaskKind.GENERATE, language="python",
                  instruction="Write next_odd(n): the smallest odd number greater than n.")
LIMITS = SandboxLimits(timeout_s=3.0)


def code(body: str) -> str:
    return f"def next_odd(n):\n    {body}\n"


def candidate(text: str, member: str = "m") -> Candidate:
    return Candidate(member=member, text=text, prompt_kind="chat")


async def test_candidates_that_return_the_same_values_form_one_cluster():
    written = [candidate(code("return n + 1 if n % 2 == 0 else n + 2")),
               candidate(code("return n + 1 + n % 2")),  # other code, same values
               candidate(code("return n + 1")),  # wrong for odd n
               candidate(code("raise ValueError(n)")),  # raises on every call: tells nothing
               candidate(code("while True: pass")),  # hangs: stopped, tells nothing
               candidate("def next_odd(n) return")]  # does not load
    await record_probes(REQUEST, written, Probes(("next_odd(2)", "next_odd(3)", "next_odd(-1)"), ()), LIMITS)
    values = [c.evidence.probes for c in written]
    assert values[0] == values[1] == ("3", "5", "1")
    assert values[2] == ("3", "4", "0")
    assert values[3:] == [None, None, None]
    groups = clusters(written[:3], REQUEST)
    assert [len(g) for g in groups] == [2, 1] and written[2] in groups[1]


async def test_the_writers_asserts_are_counted_with_the_values():
    right, wrong = candidate(code("return n + 1 + n % 2")), candidate(code("return n + 1"))
    asserts = (Case("generated line 1", "exec", "assert next_odd(3) == 5"),
               Case("generated line 2", "exec", "assert next_odd(4) == 6"))  # a wrong expectation
    await record_probes(REQUEST, [right, wrong], Probes(("next_odd(3)", "next_odd(4)"), asserts), LIMITS)
    assert right.evidence.probes == ("5", "5") and wrong.evidence.probes == ("4", "5")
    assert right.evidence.generated_tests == TestOutcome(1, 1)
    assert wrong.evidence.generated_tests == TestOutcome(0, 2)


async def test_values_equal_up_to_float_rounding_and_exceptions_are_behaviour():
    written = [candidate("def mean(xs):\n    return sum(xs) / len(xs)\n"),  # 0.20000000000000004
               candidate("def mean(xs):\n    return sum(xs) * (1 / len(xs))\n"),  # 0.2
               candidate("def mean(xs):\n    return sum(xs) / len(xs) if xs else 0.0\n")]
    await record_probes(REQUEST, written, Probes(("mean([0.1, 0.2, 0.3])", "mean([])"), ()), LIMITS)
    first, second, guarded = (c.evidence.probes for c in written)
    assert first == second == ("0.2", "raises ZeroDivisionError")
    assert guarded == ("0.2", "0")


async def test_the_cascade_resamples_an_untested_answer_nothing_behaves_like():
    right = code("return n + 1 if n % 2 == 0 else n + 2")
    wrong = code("return n + 1")
    other_right = code("return n + 1 + n % 2")
    tests_written = "```python\nassert next_odd(2) == 3\nassert next_odd(7) == 9\n```"
    members = {
        "cheap": {"quality": 0.2, "price_per_1k_tokens": 100.0,
                  "options": {"replies": [f"```python\n{right}```", tests_written]}},
        "dear": {"quality": 0.9, "price_per_1k_tokens": 1000.0,
                 "options": {"replies": [f"```python\n{wrong}```", f"```python\n{other_right}```",
                                         f"```python\n{other_right}```"]}},
    }
    engine = Engine(scripted_settings(members, ranking={"listwise": False}),
                    scripted_registry(disabled=frozenset()))
    result = await engine.run(REQUEST, strategy="cascade",
                              options={"samples": 1, "probes": 4, "resample": 2})
    assert [call.member for call in result.trace.calls] == ["cheap", "dear", "cheap", "dear"]
    assert "cheap wrote 2 probe call(s): next_odd(2); next_odd(7)" in result.trace.events
    assert any("the strongest cluster (3, passing 2 of the writer's asserts) leads" in e for e in result.trace.events)
    assert any(e.endswith("no other candidate returns the same values on the probes") for e in result.trace.events)
    # the cheap answer and the two resamples return 3 and 9; dear's first answer returns 3 and 8
    assert result.text.strip() in (right.strip(), other_right.strip())
    assert result.trace.stop_reason == "resampled dear, 4 candidates pass the checks"


async def test_the_cascade_resamples_in_batches_until_the_probed_lead_is_settled():
    right, wrong, other_right = (code("return n + 1 if n % 2 == 0 else n + 2"), code("return n + 1"),
                                 code("return n + 1 + n % 2"))
    tests_written = "```python\nassert next_odd(2) == 3\nassert next_odd(7) == 9\n```"
    members = {
        "cheap": {"quality": 0.2, "price_per_1k_tokens": 100.0,
                  "options": {"replies": [f"```python\n{right}```", tests_written]}},
        "dear": {"quality": 0.9, "price_per_1k_tokens": 1000.0,
                 "options": {"replies": [f"```python\n{wrong}```"] + [f"```python\n{other_right}```"] * 10}},
    }
    engine = Engine(scripted_settings(members, ranking={"listwise": False}),
                    scripted_registry(disabled=frozenset()))
    result = await engine.run(REQUEST, strategy="cascade", options={
        "samples": 1, "probes": 4, "resample": 10, "resample_batch": 2})
    # rivals by value: 3 against 1 (P = 0.81), 5 against 1 (0.94), 7 against 1 (0.98): settled
    assert [(call.member, call.samples) for call in result.trace.calls] == [
        ("cheap", 1), ("dear", 1), ("cheap", 1), ("dear", 2), ("dear", 2), ("dear", 2)]
    assert "resampling settled after 6 samples" in result.trace.events
    assert result.text.strip() in (right.strip(), other_right.strip())
