from codequorum.ranking.clusters import clusters, vote_shares
from codequorum.ranking.normalize import normalized_code
from codequorum.vocabulary.candidate import Candidate
from codequorum.vocabulary.evidence import TestRun
from codequorum.vocabulary.request import Request, TaskKind, completion_request


def test_names_layout_comments_and_docstrings_do_not_matter():
    a = 'def add(a, b):\n    """Sum."""\n    total = a + b  # add\n    return total\n'
    b = "def add(x, y):\n    s = x + y\n\n    return s\n"
    assert normalized_code(a) == normalized_code(b)


def test_different_programs_stay_different():
    assert normalized_code("def f(a):\n    return a + 1\n") != normalized_code("def f(a):\n    return a - 1\n")


def test_builtins_and_top_level_names_are_kept():
    assert "len" in normalized_code("def size(xs):\n    return len(xs)\n")
    assert "size" in normalized_code("def size(xs):\n    return len(xs)\n")


def test_unparsable_code_falls_back_to_tokens():
    assert normalized_code("if x {\n  y();\n}", "javascript") == normalized_code("if x { y(); }", "javascript")


def cand(member, text, results=None):
    candidate = Candidate(member=member, text=text, prompt_kind="chat")
    if results is not None:
        candidate.evidence.test_run = TestRun(tuple(results))
    return candidate


def test_candidates_with_the_same_behaviour_form_one_cluster():
    request = Request(TaskKind.GENERATE, language="python", instruction="x")
    group = [cand("a", "def f(x):\n    return x*2\n", [True, False]),
             cand("b", "def f(x):\n    return x+x\n", [True, False]),
             cand("c", "def f(x):\n    return x\n", [True, True])]
    found = clusters(group, request)
    assert [len(g) for g in found] == [2, 1]
    shares = vote_shares(group, request)
    assert shares[group[0].id] == 2 / 3 and shares[group[2].id] == 1 / 3


def test_completions_are_clustered_in_their_document():
    request = completion_request("def f(a):\n    return ", 18, language="python")
    group = [cand("a", "a + 1"), cand("b", "a+1"), cand("c", "a - 1"), cand("d", "   ")]
    assert [len(g) for g in clusters(group, request)] == [2, 1]
