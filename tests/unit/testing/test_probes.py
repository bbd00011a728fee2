from codequorum.testing.probes import calls_in, defined_functions, probes_apply
from codequorum.vocabulary.request import Request, TaskKind


def test_the_outermost_calls_of_the_task_functions_are_kept():
    names = {"solve", "helper"}
    assert calls_in("assert solve([1, 2]) == 3", names) == ["solve([1, 2])"]
    assert calls_in("assert not solve(helper(1))", names) == ["solve(helper(1))"]
    assert calls_in("assert 3 == solve(2) and len(solve(5)) > 1", names) == ["solve(2)", "solve(5)"]
    assert calls_in("assert sorted(x) == [1]", names) == []  # nothing of the task's
    assert calls_in("assert solve(", names) == []  # cut off: does not parse


def test_defined_functions_read_code_after_an_instruction():
    task = "Write the function below.\ndef solve(xs):\n    '''Sum.'''\n"
    assert defined_functions(task, "def helper(): pass\n", "not code (") == {"solve", "helper"}


def test_probes_apply_to_python_generations_only():
    assert probes_apply(Request(TaskKind.GENERATE, language="python", instruction="x"))
    assert probes_apply(Request(TaskKind.GENERATE, instruction="x"))
    assert not probes_apply(Request(TaskKind.GENERATE, language="rust", instruction="x"))
    assert not probes_apply(Request(TaskKind.COMPLETE, language="python", prefix="def f():\n    "))
