from codequorum.core.postprocess.prefix_overlap import remove_prefix_overlap


def test_repeated_lines_before_the_cursor_are_dropped():
    prefix = "def add(a, b):\n    "
    text = "def add(a, b):\n    return a + b"
    assert remove_prefix_overlap(text, prefix) == "return a + b"


def test_repeated_current_line_is_dropped():
    assert remove_prefix_overlap("total = sum(xs)", "    total = ") == "sum(xs)"


def test_new_code_is_kept():
    assert remove_prefix_overlap("return 1", "def f():\n    ") == "return 1"
