import pytest

from codequorum.bench import collect as collect_module
from codequorum.bench.collect import collect
from codequorum.bench.problems import Problem
from codequorum.core.engine import Engine
from codequorum.sandbox import SandboxLimits
from codequorum.vocabulary.records import CandidateStore, Record, Setting
from tests.unit.doubles import ScriptedBackend, scripted_registry, scripted_settings

PROBLEM = Problem("p1", "def f():\n", "def check(f):\n    pass\n", "f")


def answer(value):
    return f"```python\ndef f():\n    return {value}\n```"


def stored(index, value, setting="k2-t0.6", error=None):
    return Record("p1", "m", setting, index, f"def f():\n    return {value}\n", 3, 4.0, 0.1, -0.5,
                  passed=value == 1, error=error)


@pytest.fixture
def engine():
    registry = scripted_registry(disabled=frozenset({"checks.syntax", "checks.tests"}))
    members = {"m": {"options": {"replies": [answer(7), answer(8)]}}}
    return Engine(scripted_settings(members, ranking={"listwise": False}), registry)


@pytest.fixture(autouse=True)
def hidden_tests(monkeypatch):
    """The hidden tests, scripted: the answer returning 8 passes."""
    async def outcomes(problem, texts, limits):
        return ["return 8" in text for text in texts]
    monkeypatch.setattr(collect_module, "hidden_results", outcomes)


async def test_a_larger_sampled_cell_only_generates_the_samples_it_lacks(tmp_path, engine):
    store = CandidateStore(tmp_path / "candidates.jsonl")
    store.append([stored(0, 1), stored(1, 2)])
    ScriptedBackend.params.clear()
    added = await collect(engine, [PROBLEM], ["m"], Setting(4, 0.6), store, SandboxLimits())
    [params] = ScriptedBackend.params
    assert (params.n, params.seed, params.temperature) == (2, 2, 0.6)  # samples 2 and 3, seeds 2 and 3
    assert [(r.index, r.text.split()[-1], r.passed, r.setting) for r in added] == [
        (0, "1", True, "k4-t0.6"), (1, "2", False, "k4-t0.6"), (2, "7", False, "k4-t0.6"),
        (3, "8", True, "k4-t0.6")]
    assert added[0].compute_seconds == 4.0  # as measured when it was generated
    assert len(store.cells()[("p1", "m", "k4-t0.6")]) == 4


async def test_greedy_cells_other_temperatures_and_failed_cells_are_not_reused(tmp_path, engine):
    store = CandidateStore(tmp_path / "candidates.jsonl")
    store.append([stored(0, 1, "k1-t0"), stored(0, 1, "k2-t0.8"), stored(1, 2, "k2-t0.8"),
                  stored(0, 1, "k1-t0.6", error="member down")])
    ScriptedBackend.params.clear()
    added = await collect(engine, [PROBLEM], ["m"], Setting(2, 0.6), store, SandboxLimits())
    assert [(p.n, p.seed) for p in ScriptedBackend.params] == [(2, 0)]
    assert [r.index for r in added] == [0, 1]


def test_setting_keys_parse_back():
    assert Setting.parse("k3-t0.6") == Setting(3, 0.6) and Setting.parse(Setting().key) == Setting()
    assert Setting.parse("greedy") is None and Setting.parse("kx-t1") is None
