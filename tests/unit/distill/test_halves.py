from codequorum.bench.fim_tasks import split_halves
from codequorum.distill.halves import in_half, is_validation, other_half


class _Task:
    def __init__(self, problem_id: str) -> None:
        self.problem = type("P", (), {"id": problem_id})()


def test_the_halves_are_the_benchs_own():
    ids = [f"HumanEval/{n}" for n in range(10)]
    even, odd = split_halves([_Task(i) for i in ids])  # type: ignore[arg-type]
    assert [i for i in ids if in_half(i, "even")] == [t.problem.id for t in even]
    assert [i for i in ids if in_half(i, "odd")] == [t.problem.id for t in odd]
    assert all(in_half(i, "all") for i in ids)
    assert not any(in_half(i, "even") and in_half(i, "odd") for i in ids)


def test_the_other_half():
    assert (other_half("even"), other_half("odd"), other_half("all")) == ("odd", "even", "all")


def test_the_validation_split_is_stable_and_near_its_share():
    keys = [f"HumanEval/{n}" for n in range(2000)]
    chosen = [k for k in keys if is_validation(k, 0.2)]
    assert chosen == [k for k in keys if is_validation(k, 0.2)]
    assert 0.17 < len(chosen) / len(keys) < 0.23
    assert not any(is_validation(k, 0.0) for k in keys)
    assert set(chosen) <= {k for k in keys if is_validation(k, 0.5)}  # a larger share keeps the smaller's
