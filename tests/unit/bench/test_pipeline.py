"""The bench run without its CLI: what is collected, and the calibration, heard by a listener."""

from contextlib import contextmanager
from pathlib import Path

from codequorum.bench.pipeline import BenchPlan, calibrate
from codequorum.bench.problems import from_jsonl
from codequorum.bench.replay import StrategyRun
from codequorum.config import load_settings
from codequorum.vocabulary.records import Setting
from tests.unit.cli.test_bench_calibrate import collection


class Recording:
    def __init__(self) -> None:
        self.notes: list[str] = []
        self.tasks: list[tuple[str, int, list[str]]] = []

    def note(self, line: str) -> None:
        self.notes.append(line)

    @contextmanager
    def task(self, description: str, total: int):
        steps: list[str] = []
        self.tasks.append((description, total, steps))
        yield steps.append


def test_a_plan_collects_the_greedy_answers_its_strategies_also_ask_for():
    sampled = Setting(3, 0.6)
    alone = BenchPlan([], ["a"], sampled, Path("out"))
    assert alone.settings_to_collect == [sampled] and not alone.lazy
    replayed = BenchPlan([], ["a"], sampled, Path("out"), [StrategyRun.parse("vote")], lazy_samples=True)
    assert replayed.settings_to_collect == [Setting(), sampled] and replayed.lazy
    greedy = BenchPlan([], ["a"], Setting(), Path("out"), [StrategyRun.parse("single")], lazy_samples=True)
    assert greedy.settings_to_collect == [Setting()] and not greedy.lazy


def test_calibration_picks_the_cheapest_threshold_that_reaches_the_goal(tmp_path):
    suite, out, config = collection(tmp_path)
    listener = Recording()
    calibration = calibrate(load_settings(config), from_jsonl(suite), ["cheap", "dear"], out, Setting(3, 0.6),
                            ["0.5", "1.0"], [StrategyRun.parse("best-of")], share=0.97,
                            trained_on_suite=False, listener=listener)
    assert [f.strategy for f in calibration.figures] == ["best-of", "cascade threshold=0.5", "cascade threshold=1.0"]
    assert calibration.threshold == "1.0" and calibration.chosen is calibration.figures[2]
    [(description, total, steps)] = listener.tasks
    assert (description, total, len(steps)) == ("replaying", 6, 6)
    assert steps[0] == "best-of p1"
