from __future__ import annotations

import ast

from codequorum.fix.mutate import OPERATORS, mutants

SOURCE = '''\
def helper(a, b):
    return a < b


def f(xs, n):
    total = 0
    for i in range(len(xs)):
        if xs[i] < n:
            total += xs[i]
        else:
            total -= 1
    return max(total, 0)
'''


def _by_operator(function: str | None = "f") -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for mutant in mutants(SOURCE, function):
        ast.parse(mutant.source)  # every mutant is valid Python
        found.setdefault(mutant.operator, []).append(mutant.source)
    return found


def test_each_operator_makes_its_one_change():
    found = _by_operator()
    assert set(found) == set(OPERATORS)
    assert "if xs[i] <= n:" in found["flip-comparison"][0]
    assert "range(len(xs) - 1)" in found["off-by-one-range"][0]
    assert any("total -= xs[i]" in s for s in found["wrong-arithmetic"])
    assert any("total += 1" in s for s in found["wrong-arithmetic"])
    assert "max(0, total)" in found["swapped-arguments"][0]
    [dropped] = found["dropped-branch"]
    assert "else" not in dropped and "total -= 1" not in dropped


def test_only_the_named_function_is_mutated():
    for source in [s for sources in _by_operator().values() for s in sources]:
        assert "return a < b" in source
    assert any("return a <= b" in s for s in _by_operator(None)["flip-comparison"])


def test_mutants_are_reproducible_and_one_site_each():
    first, second = mutants(SOURCE, "f"), mutants(SOURCE, "f")
    assert first == second
    original = ast.unparse(ast.parse(SOURCE)).splitlines()
    for mutant in first:
        changed = [a for a, b in zip(original, mutant.source.splitlines(), strict=False) if a != b]
        assert len(changed) <= 1 or mutant.operator == "dropped-branch"
