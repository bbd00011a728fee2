from codequorum.ranking.dual_agreement import dual_agreement
from codequorum.testing.generated import asserts_in


def test_consensus_set_size_times_tests_passed():
    results = [
        [True, True, False],   # set A: 2 candidates x 2 tests = 4
        [True, True, False],
        [True, True, True],    # set B: 1 candidate x 3 tests = 3
        [False, False, False],  # set C: passes nothing = 0
    ]
    assert dual_agreement(results) == [1.0, 1.0, 0.75, 0.0]


def test_no_tests_passed_by_anyone_scores_zero():
    assert dual_agreement([[False], [False]]) == [0.0, 0.0]


def test_only_parsable_asserts_are_kept():
    text = "assert f(1) == 2\nprint('x')\nassert f(2) ==\n    assert f(0) == 1  \n"
    assert [c.source for c in asserts_in(text)] == ["assert f(1) == 2", "assert f(0) == 1"]
