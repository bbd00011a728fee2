"""Finding the function a failure points at: traceback frames, then calls from failing tests."""

from __future__ import annotations

from pathlib import Path, PurePosixPath

import pytest

from codequorum.fix.locate import locate, project_relative
from codequorum.plugins.languages.python import PythonLanguage

PYTEST_SHORT = """\
___ test_add ___
tests/test_ops.py:5: in test_add
    assert add(2, 3) == 5
E   assert -1 == 5
___ test_double ___
tests/test_ops.py:9: in test_double
    assert double(4) == 8
E   assert 0 == 8
FAILED tests/test_ops.py::test_add - assert -1 == 5
"""

TRACEBACK = """\
Traceback (most recent call last):
  File "/sandbox/check_stats.py", line 3, in <module>
    assert middle([1, 2, 3]) == 2
  File "/sandbox/stats.py", line 5, in middle
    return values[len(values)]
IndexError: list index out of range
"""


@pytest.fixture
def python() -> PythonLanguage:
    return PythonLanguage()


@pytest.fixture
def calc(tmp_path: Path) -> Path:
    (tmp_path / "calc").mkdir()
    (tmp_path / "tests").mkdir()
    (tmp_path / "calc" / "ops.py").write_text(
        '"""doc"""\n\n\ndef add(a, b):\n    return a - b\n\n\ndef double(x):\n    return add(x, x)\n')
    (tmp_path / "tests" / "test_ops.py").write_text(
        "from calc.ops import add, double\n\n\ndef test_add():\n    assert add(2, 3) == 5\n\n\n"
        "def test_double():\n    assert double(4) == 8\n")
    return tmp_path


def test_python_reads_pytest_and_traceback_frames(python):
    frames = python.failure_frames(PYTEST_SHORT + TRACEBACK)
    assert [(f.path, f.line, f.function) for f in frames] == [
        ("tests/test_ops.py", 5, "test_add"),
        ("tests/test_ops.py", 9, "test_double"),
        ("/sandbox/check_stats.py", 3, "<module>"),
        ("/sandbox/stats.py", 5, "middle"),
    ]


def test_pytest_long_report_line_with_exception_name_is_a_frame(python):
    [frame] = python.failure_frames("pkg/mod.py:12: IndexError\n")
    assert (frame.path, frame.line, frame.function) == ("pkg/mod.py", 12, None)


def test_test_files_are_recognised(python):
    assert python.is_test_file("tests/helpers.py")
    assert python.is_test_file("test_x.py") and python.is_test_file("pkg/x_test.py")
    assert not python.is_test_file("calc/ops.py")


def test_paths_are_made_relative_to_the_project():
    project = Path("/home/u/proj")
    assert project_relative("/sandbox/a/b.py", project, "/sandbox") == PurePosixPath("a/b.py")
    assert project_relative("/home/u/proj/a.py", project, "/sandbox") == PurePosixPath("a.py")
    assert project_relative("a.py", project, "/sandbox") == PurePosixPath("a.py")
    assert project_relative("/usr/lib/python3/x.py", project, "/sandbox") is None
    assert project_relative("../x.py", project, "/sandbox") is None


def test_innermost_code_frame_names_the_function(tmp_path, python):
    (tmp_path / "stats.py").write_text(
        "import os\n\n\ndef middle(values):\n    return values[len(values)]\n")
    (tmp_path / "check_stats.py").write_text("from stats import middle\n\nassert middle([1, 2, 3]) == 2\n")
    found = locate(TRACEBACK, tmp_path, "/sandbox", python)
    assert found is not None
    assert found.path == PurePosixPath("stats.py")
    assert (found.definition.name, found.definition.start, found.definition.end) == ("middle", 4, 5)
    assert found.code == "def middle(values):\n    return values[len(values)]\n"


def test_failure_seen_only_in_tests_finds_the_called_function(calc, python):
    found = locate(PYTEST_SHORT, calc, "/sandbox", python)
    assert found is not None and found.path == PurePosixPath("calc/ops.py")
    # add and double are both called once; the first failure's function wins the tie
    assert found.definition.name == "add"


def test_function_called_by_most_failures_wins(calc, python):
    output = "tests/test_ops.py:9: in test_double\ntests/test_ops.py:9: in test_double\n" + PYTEST_SHORT
    found = locate(output, calc, "/sandbox", python)
    assert found is not None and found.definition.name == "double"


def test_target_file_restricts_the_search(calc, python):
    (calc / "calc" / "other.py").write_text("def add(a, b):\n    return a + b\n")
    found = locate(PYTEST_SHORT, calc, "/sandbox", python, PurePosixPath("calc/other.py"))
    assert found is not None and found.path == PurePosixPath("calc/other.py")


def test_nothing_to_locate(calc, python):
    assert locate("ERROR: something else\n", calc, "/sandbox", python) is None
    assert locate("tests/test_ops.py:5: in test_add\n", calc, "/sandbox", python,
                  PurePosixPath("tests/test_ops.py")) is None


def test_methods_are_found_with_their_decorators_and_indentation(python):
    source = "class A:\n    @staticmethod\n    def f(x):\n        return x\n"
    [definition] = python.definitions(source)
    assert (definition.name, definition.start, definition.end, definition.indent) == ("f", 2, 4, "    ")


def test_called_names_include_methods(python):
    assert python.called_names("x = obj.run(parse(s))\n", 1) == ["run", "parse"]


def test_a_plain_assert_script_points_at_the_function_it_calls(tmp_path, python):
    (tmp_path / "stats.py").write_text("def mean(values):\n    return sum(values) / (len(values) + 1)\n")
    (tmp_path / "check_stats.py").write_text("from stats import mean\n\nassert mean([1, 2, 3]) == 2\n")
    output = ('Traceback (most recent call last):\n  File "/sandbox/check_stats.py", line 3, in <module>\n'
              "    assert mean([1, 2, 3]) == 2\nAssertionError\n")
    found = locate(output, tmp_path, "/sandbox", python)
    assert found is not None and found.path == PurePosixPath("stats.py") and found.definition.name == "mean"
