from codequorum.testing.enclosing import definition_around, finishes_definition
from codequorum.testing.programs import visible_suite
from codequorum.vocabulary.request import completion_request

PROGRAM = '''import math


@cache
def area(a, b):
    """Half the product.

    >>> area(2, 3)
    3.0
    area(4, 1) => 2.0
    """
    product = a * b
    return product / 2


def other():
    """>>> other()
    1
    """
    return 1
'''


def split(marker: str, program: str = PROGRAM) -> tuple[str, str]:
    """The program around the cursor: before and after the first `marker`, removed."""
    at = program.index(marker)
    return program[:at], program[at + len(marker):]


def test_a_gap_inside_a_function_gives_the_whole_function_with_its_decorator():
    prefix, suffix = split("    product = a * b\n")
    around = definition_around(prefix, suffix)
    assert around is not None
    assert around.startswith("@cache\ndef area(a, b):") and around.rstrip().endswith("return product / 2")
    assert "product = a * b" not in around and "def other" not in around and "import math" not in around


def test_a_cursor_at_the_start_of_an_indented_line_is_inside_its_function():
    prefix, suffix = split("    product = a * b\n    ")
    assert definition_around(prefix, "    " + suffix) is not None


def test_a_snippet_finishes_the_function_in_a_gap_or_with_its_last_statement():
    prefix, suffix = split("    product = a * b\n")
    assert finishes_definition(prefix, "    product = a * b\n", suffix)  # the function goes on after it
    end = PROGRAM[: PROGRAM.index("    return product / 2\n")]
    after = "\n\n# a comment only\n\ndef next_one():\n    pass\n"
    assert finishes_definition(end, "    return product / 2\n", after)
    assert finishes_definition(end, "    if a:\n        raise ValueError(a)\n    yield b\n", after)
    assert not finishes_definition(end, "    half = product / 2\n", after)  # still being written
    assert not finishes_definition(end, "    returned = 1\n    # return it\n", "")


def test_a_cursor_at_the_top_level_or_outside_any_definition_has_none():
    assert definition_around("import math\n", "\n\ndef f():\n    pass\n") is None
    assert definition_around("x = 1\nif x:\n    ", "\n    y = 2\n") is None
    prefix, suffix = split("import math")
    assert definition_around(prefix, suffix) is None


def test_a_signature_spread_over_lines_stays_in_the_definition():
    prefix = "def f(\n    a,\n    b,\n):\n    "
    assert definition_around(prefix, "\n    return a + b\n") == prefix + "\n    return a + b\n"


def test_a_completion_gets_the_examples_of_its_function_only():
    prefix, suffix = split("    product = a * b\n")
    suite = visible_suite(completion_request(prefix + suffix, len(prefix), language="python"))
    assert suite is not None
    assert sorted(c.kind for c in suite.cases) == ["doctest", "exec"]
    assert all("other" not in c.source for c in suite.cases)


def test_a_completion_with_no_function_around_it_or_in_another_language_has_no_suite():
    prefix = "import math\n"
    assert visible_suite(completion_request(prefix, len(prefix), language="python")) is None
    prefix, suffix = split("    product = a * b\n")
    assert visible_suite(completion_request(prefix + suffix, len(prefix), language="rust")) is None
