"""Indentation errors the Python grammar accepts: each case is checked against `compile()`."""

import pytest

from codequorum.plugins.languages.python import PythonLanguage

PY = PythonLanguage()

LOOP_PREFIX = "def grow(begin, end):\n    while begin * end > 0:\n        begin *= 2.0\n"
LOOP_SUFFIX = "        end *= 2.0\n    return begin\n"


def _compiles(source: str) -> bool:
    try:
        compile(source, "<case>", "exec")
    except SyntaxError:
        return False
    return True


@pytest.mark.parametrize("snippet", [
    "    return begin\n",  # dedents out of the loop: the loop's next line is now unexpected
    "return 1\n",  # ends the function: the rest of its body floats at the top level
    "      begin += 1\n",  # matches no outer indentation level
    "            begin += 1\n",  # indented deeper than its siblings
])
def test_a_snippet_that_breaks_the_blocks_is_not_ok(snippet):
    assert not _compiles(LOOP_PREFIX + snippet + LOOP_SUFFIX)
    verdict = PY.insertion_verdict(LOOP_PREFIX, snippet, LOOP_SUFFIX)
    assert not verdict.ok and verdict.new_errors >= 1


@pytest.mark.parametrize("snippet", ["        begin += 1\n", "        if begin:\n            end -= 1\n"])
def test_a_snippet_at_the_blocks_indentation_is_ok(snippet):
    assert _compiles(LOOP_PREFIX + snippet + LOOP_SUFFIX)
    assert PY.insertion_verdict(LOOP_PREFIX, snippet, LOOP_SUFFIX).ok


def test_a_block_not_indented_under_its_header_is_an_issue():
    source = "def f(x):\n    if x:\n    return 1\n"
    assert not _compiles(source)
    assert PY.syntax_issues(source) >= 1


@pytest.mark.parametrize("source", [
    "def f(x):\n    if x:\n        return 1\n      else:\n        return 2\n",
    "try:\n    pass\n  except ValueError:\n    pass\n",
])
def test_a_clause_off_its_statements_indentation_is_an_issue(source):
    assert not _compiles(source)
    assert PY.syntax_issues(source) >= 1


def test_an_indented_first_statement_is_an_issue_of_a_whole_program():
    assert not _compiles("    x = 1\n")
    assert PY.syntax_issues("    x = 1\n") == 1


def test_valid_layouts_have_no_issue():
    for source in [
        "def f(x):\n    if x: return 1\n    return 2\n",  # a body on its header's line
        "def f(x):\n    y = (1 +\n            2)\n        # a comment anywhere\n    return y\n",
        "class A:\n\tdef m(self):\n\t\tpass\n",  # tabs
        "for x in y:\n    pass\nelse:\n    pass\n",
    ]:
        assert _compiles(source), source
        assert PY.syntax_issues(source) == 0, source


def test_a_window_that_starts_inside_a_function_may_step_back_out():
    # the prompt window begins at a line boundary inside a body: its lines dedent at will
    prefix = "        x += 1\n    return x\n\n\ndef g():\n    "
    assert PY.insertion_verdict(prefix, "return 2\n", "").ok
    assert not PY.insertion_verdict(prefix, "return 2\n        y = 1\n", "").ok


def test_every_indentation_mutant_of_the_humaneval_programs_that_python_rejects_is_caught():
    """The figure in docs/results.md: each program's lines moved by ±2 or ±4 columns (5 tries
    per program, seed 0); where `compile()` then raises IndentationError the check must count
    a new issue, and no program that compiles may have one."""
    import random

    from codequorum.bench.fim_tasks import humaneval_programs

    rng = random.Random(0)
    mutants = caught = 0
    for _, program in humaneval_programs():
        assert PY.syntax_issues(program) == 0
        lines = program.split("\n")
        for _ in range(5):
            at = rng.randrange(len(lines))
            code = lines[at].lstrip()
            width, shift = len(lines[at]) - len(code), rng.choice([-4, -2, 2, 4])
            if not code or width + shift < 0:
                continue
            mutant = "\n".join([*lines[:at], " " * (width + shift) + code, *lines[at + 1:]])
            try:
                compile(mutant, "<mutant>", "exec")
                continue
            except IndentationError:
                mutants += 1
            except SyntaxError:
                continue
            caught += PY.syntax_issues(mutant) > 0
    print(f"{caught} of {mutants} indentation mutants caught")
    assert mutants >= 200 and caught == mutants
