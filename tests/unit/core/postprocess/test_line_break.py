from codequorum.core.postprocess.line_break import fit_line_breaks


def test_lines_inserted_in_front_of_code_end_with_a_line_break():
    prefix, suffix = "def f(x):\n", "    return y\n"
    text = fit_line_breaks("    y = x + 1", prefix, suffix)
    assert prefix + text + suffix == "def f(x):\n    y = x + 1\n    return y\n"


def test_after_the_indentation_the_next_line_keeps_its_indentation():
    prefix, suffix = "def f(x):\n    ", "return y\n"
    text = fit_line_breaks("y = x + 1\n    z = y\n", prefix, suffix)
    assert prefix + text + suffix == "def f(x):\n    y = x + 1\n    z = y\n    return y\n"


def test_before_a_line_break_of_the_document_none_is_added():
    assert fit_line_breaks("y = 1\n\n", "def f():\n    ", "\n    return y\n") == "y = 1"


def test_the_rest_of_a_line_keeps_its_text():
    assert fit_line_breaks("a, b  ", "f(", ")\n") == "a, b"


def test_nothing_but_whitespace_is_nothing():
    assert fit_line_breaks("  \n\n", "def f(x):\n", "    return y\n") == ""


def test_whole_lines_at_the_end_of_the_file_end_with_a_line_break():
    assert fit_line_breaks("    return x\n\n", "def f(x):\n", "") == "    return x\n"
    assert fit_line_breaks("x\n", "def f():\n    return ", "") == "x"
