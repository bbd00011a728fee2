from codequorum.testing.python_tests import suite_from_text

TESTS = '''
import math
from helpers import approx  # setup stays setup

assert add(1, 2) == 3
assert add(-1, 1) == 0

def test_floats():
    assert math.isclose(add(0.1, 0.2), 0.3)

def helper():
    return 1

if __name__ == "__main__":
    print("ran")
'''


def test_asserts_and_test_functions_become_cases_and_the_rest_setup():
    suite = suite_from_text(TESTS)
    assert [c.name for c in suite.cases] == ["assert line 5", "assert line 6", "test_floats"]
    assert [c.kind for c in suite.cases] == ["exec", "exec", "function"]
    assert "import math" in suite.setup and "def helper" in suite.setup
    assert "__main__" not in suite.setup


def test_doctest_examples_from_a_docstring_are_cases():
    doc = '''def inc(x):
    """Add one.
    >>> inc(1)
    2
    >>> inc(-1)
    0
    """'''
    suite = suite_from_text(None, doc)
    assert [(c.kind, c.source.strip(), c.want.strip()) for c in suite.cases] == [
        ("doctest", "inc(1)", "2"), ("doctest", "inc(-1)", "0")]


def test_unparsable_tests_still_run_as_one_case():
    suite = suite_from_text("assert f(1) ==")
    assert len(suite.cases) == 1 and suite.cases[0].kind == "exec"


def test_no_tests_gives_an_empty_suite():
    assert suite_from_text(None).cases == () and suite_from_text("  \n").cases == ()
