import json

import pytest

from codequorum.bench import out_of_fold as oof
from codequorum.bench.problems import Problem
from codequorum.config import settings_from_dict
from codequorum.ranking import train
from codequorum.ranking.listwise import ListwiseRanker, load_ranker
from codequorum.ranking.train import fold_assignment
from codequorum.vocabulary.records import Record

IDS = [f"p{i}" for i in range(12)]


def settings():
    return settings_from_dict({
        "include_default_members": False,
        "members": {"strong": {"backend": "llama-cpp", "path": "/x/strong.gguf", "quality": 0.9},
                    "weak": {"backend": "llama-cpp", "path": "/x/weak.gguf", "quality": 0.5}},
    }, "test")


def records():
    rows = []
    for number, problem in enumerate(IDS):
        for member, passed in (("strong", number % 3 != 0), ("weak", number % 2 == 0)):
            rows.append(Record(problem, member, "k1-t0", 0, f"def f():\n    return {number}\n", 10, 1.0,
                               0.1, -0.2, {"syntax": True}, passed=passed))
        rows.append(Record(problem, "strong", "k3-t0.6", 0, "def f():\n    pass\n", 10, 1.0, 0.1, -0.9,
                           {"syntax": True}, passed=False))
    return rows


def test_folds_deal_every_problem_once_and_are_seeded():
    folds = fold_assignment(IDS, 5)
    assert set(folds) == set(IDS) and set(folds.values()) == set(range(5))
    assert folds == fold_assignment(IDS, 5) and folds != fold_assignment(IDS, 5, seed=1)


def test_each_problem_is_ranked_by_a_ranker_that_never_saw_it(tmp_path, monkeypatch):
    trained_on = []
    real = train.train_listnet

    def spy(examples, **options):
        trained_on.append({e.problem for e in examples})
        return real(examples, epochs=5, **options)

    monkeypatch.setattr(train, "train_listnet", spy)
    problems = [Problem(pid, "", "", "f") for pid in IDS[:8]]  # evaluate 8, train on all 12
    folds = oof.out_of_fold(settings(), records(), problems, tmp_path / "rankers", folds=4)
    assert sorted(p.id for fold in folds for p in fold.problems) == sorted(p.id for p in problems)
    assert len(trained_on) == 4 and all(len(seen) == 9 for seen in trained_on)
    for fold in folds:
        weights = fold.settings.ranking.listwise_weights
        assert fold.settings.ranking.listwise and weights is not None and weights.parent == tmp_path / "rankers"
        assert isinstance(load_ranker(weights), ListwiseRanker)
        seen = trained_on[int(weights.stem.rsplit("-", 1)[1])]
        assert not seen & {p.id for p in fold.problems}


def test_problems_never_collected_are_ranked_without_the_ranker(tmp_path, monkeypatch):
    monkeypatch.setattr(train, "train_listnet", lambda examples, **options: _tiny_ranker())
    problems = [Problem("p0", "", "", "f"), Problem("new", "", "", "f")]
    folds = oof.out_of_fold(settings(), records(), problems, tmp_path, folds=3)
    unseen = [fold for fold in folds if any(p.id == "new" for p in fold.problems)]
    assert len(unseen) == 1 and not unseen[0].settings.ranking.listwise


def _tiny_ranker() -> ListwiseRanker:
    import numpy as np

    from codequorum.ranking.features import FEATURES
    return ListwiseRanker(np.zeros((len(FEATURES), 2), np.float32), np.zeros(2, np.float32),
                          np.zeros(2, np.float32), 0.0)


@pytest.mark.parametrize("content", ["not json", json.dumps({"features": ["other"]})])
def test_unreadable_weights_are_no_ranker(tmp_path, content):
    path = tmp_path / "w.json"
    path.write_text(content)
    assert load_ranker(path) is None


class FakeEmbedder:
    def embed(self, texts):
        import numpy as np
        return np.ones((len(texts), 4), np.float32)


def test_each_problem_is_routed_by_a_memory_built_without_it(tmp_path, monkeypatch):
    from codequorum.bench.collect import request_for
    from codequorum.routing import embed
    from codequorum.routing.memory import RouterMemory, request_text

    monkeypatch.setattr(train, "train_listnet", lambda examples, **options: _tiny_ranker())
    monkeypatch.setattr(embed, "MiniLmEmbedder", FakeEmbedder)
    suite = [Problem(pid, f"def f{pid}():\n    pass\n", "", "f") for pid in IDS]
    folds = oof.out_of_fold(settings(), records(), suite[:6], tmp_path, folds=3, suite=suite)
    for fold in folds:
        memory = RouterMemory.load(tmp_path / fold.settings.strategy_options("route")["memory"])
        held_out = {request_text(request_for(p, 384, None)) for p in fold.problems}
        assert len(memory) == 12 - 4 and not held_out & {e.text for e in memory.entries}
        assert all(set(e.outcomes) == {"strong", "weak"} for e in memory.entries)  # greedy only


def test_a_fold_with_nothing_to_learn_from_is_ranked_without_the_ranker(tmp_path):
    only = [r for r in records() if r.problem == "p1"]  # its fold has nothing else to learn from
    folds = oof.out_of_fold(settings(), only, [Problem("p1", "", "", "f")], tmp_path, folds=2)
    assert [p.id for p in folds[0].problems] == ["p1"] and not folds[0].settings.ranking.listwise
