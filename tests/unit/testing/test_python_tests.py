from codequorum.testing import python_tests
from codequorum.testing.python_tests import PARSE_ATTEMPTS, parse_code, shows_examples, suite_from_text

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


def test_informal_docstring_examples_become_cases():
    code = '''def digit_sum(s):
    """Sum of the upper-case characters' codes.

    Examples:
        digit_sum("") => 0
        digit_sum("abAB") ➞ 131.
        digit_sum("x") == 0
        pair(1) ==> (1, 1)
        digit_sum(s) -> int: the sum, see above
        print(3) => 3
        digit_sum(s) => 0
        >>> digit_sum("A")
        65
    """
'''
    cases = suite_from_text(None, code).cases
    examples = [c for c in cases if c.name.startswith("example")]
    assert [c.source for c in examples] == ['assert (digit_sum("")) == (0)', 'assert (digit_sum("abAB")) == (131)',
                                            'assert (digit_sum("x")) == (0)']
    assert [c.name for c in examples] == ["example line 5", "example line 6", "example line 7"]
    assert [c.kind for c in cases if c.kind == "doctest"] == ["doctest"]


def test_informal_examples_need_code_that_parses():
    assert suite_from_text(None, 'def f(x):\n    """f(1) => 2"""\n    return (').cases == ()


def test_informal_examples_are_found_after_an_instruction_in_prose():
    text = 'Complete the function below, don\'t change it.\ndef f(x):\n    """f(1) => 2"""\n'
    assert [c.source for c in suite_from_text(None, text).cases] == ["assert (f(1)) == (2)"]


def test_a_document_shows_examples_where_its_docstrings_hold_cases():
    assert shows_examples('def f(x):\n    """\n    >>> f(1)\n    2\n    """\n')
    assert shows_examples('def f(x):\n    """Add one:\n    f(2) => 3\n    """\n')
    assert not shows_examples('def f(x):\n    """g(2) => 3, of a function not defined here"""\n')
    assert not shows_examples("def f(x) -> int:\n    return x + 1  # f(1) == 2\n")
    assert not shows_examples('def f(x):\n    """\n    >>> f(1)\n    2\n    """\n' + "#" * 100_000)
    assert not shows_examples("x = 1\0\n") and not shows_examples("(" * 5000)


BROKEN_LONG_FILE = "".join(f"def f{i}(x):\n    return x + {i}\n\n" for i in range(200)) + "def broken(:\n"


def test_a_long_file_with_a_syntax_error_is_parsed_a_bounded_number_of_times(monkeypatch):
    parses = []
    real = python_tests._parsed
    monkeypatch.setattr(python_tests, "_parsed", lambda code: parses.append(1) or real(code))
    assert parse_code(BROKEN_LONG_FILE) is None
    assert len(parses) == PARSE_ATTEMPTS  # not once per definition (201): minutes for a large file
    parses.clear()
    assert not shows_examples(BROKEN_LONG_FILE)
    assert len(parses) == 1
