import pytest

from codequorum.vocabulary.scope import scope_at


@pytest.mark.parametrize(("prefix", "suffix", "scope"), [
    ("def f(x):\n", "    return x\n", "block"),  # the start of a line, in front of code
    ("def f(x):\n    ", "return x\n", "block"),  # after the indentation, in front of code
    ("def f(x):\n    ", "\n", "block"),  # an empty line
    ("def f(x):", "\n    return x\n", "block"),  # after a block opener
    ("print(", ")\n", "line"),  # inside the line
    ("total = ", "\n", "line"),  # the end of a line begun
    ("", "", "block"),
])
def test_scope_at(prefix, suffix, scope):
    assert scope_at(prefix, suffix) == scope
