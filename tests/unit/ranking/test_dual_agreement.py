from codequorum.ranking.dual_agreement import dual_agreement, strongest_cluster
from codequorum.testing.generated import asserts_in
from codequorum.vocabulary.candidate import Candidate, TestOutcome


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


def _candidate(asserts_passed=None):
    candidate = Candidate(member="m", text="x = 1\n", prompt_kind="chat")
    if asserts_passed is not None:
        candidate.evidence.generated_tests = TestOutcome(asserts_passed, 3 - asserts_passed)
    return candidate


def test_the_strongest_cluster_weighs_size_by_the_asserts_passed():
    three_failing = [_candidate(0) for _ in range(3)]
    two_passing = [_candidate(2), _candidate(2)]
    assert strongest_cluster([three_failing, two_passing]) == two_passing  # 3 × 1 < 2 × 3
    assert strongest_cluster([three_failing, [_candidate(1)]]) == three_failing  # 3 × 1 > 1 × 2


def test_without_asserts_the_largest_cluster_leads_and_ties_keep_the_order():
    first, second = [_candidate(), _candidate()], [_candidate(), _candidate()]
    assert strongest_cluster([first, second]) == first
    assert strongest_cluster([[_candidate()], second]) == second
    assert strongest_cluster([]) == []
