from codequorum.core.postprocess.indentation import limit_scope_by_indentation


def test_completion_stops_where_it_leaves_the_cursor_block():
    prefix = "def f(x):\n    "
    text = "y = x + 1\n    return y\ndef g():\n    pass"
    assert limit_scope_by_indentation(text, prefix, "\n\nprint(f(1))\n") == "y = x + 1\n    return y\n"


def test_a_closing_brace_the_document_already_has_is_not_repeated():
    prefix = "function f() {\n  "
    text = "return 1;\n}\nfunction g() {}"
    assert limit_scope_by_indentation(text, prefix, "\n}\n\nf();\n") == "return 1;\n"


def test_a_closing_brace_the_document_lacks_is_kept():
    prefix = "function f() {\n  "
    text = "return 1;\n}\nfunction g() {}"
    assert limit_scope_by_indentation(text, prefix, "\n\nf();\n") == "return 1;\n}\n"


def test_inside_a_block_the_gap_ends_with_the_block_even_at_the_end_of_the_file():
    text = "pass\ndef g():\n    pass"
    assert limit_scope_by_indentation(text, "def f():\n    ", "") == "pass\n"


def test_at_the_top_level_more_code_may_follow():
    text = "x = 1\ndef g():\n    pass"
    assert limit_scope_by_indentation(text, "import os\n", "") == text


def test_a_gap_may_dedent_as_far_as_the_code_after_it():
    prefix = "def f(xs):\n    for x in xs:\n"
    text = "        total += x\n    return total\nprint(f([1]))"
    suffix = "    print(total)\n"
    assert limit_scope_by_indentation(text, prefix, suffix) == "        total += x\n    return total\n"


def test_a_gap_in_front_of_code_is_measured_from_that_code():
    prefix, suffix = "def f(x):\n", "    return y\n"
    text = "    y = x + 1\ny = 2"
    assert limit_scope_by_indentation(text, prefix, suffix) == "    y = x + 1\n"


def test_a_gap_may_dedent_and_indent_again_inside_the_definition():
    prefix = "def sign(x):\n    if x > 0:\n"
    text = "        return 1\n    else:\n        return -1\nprint(sign(2))\n"
    suffix = "        return -1\n"
    assert limit_scope_by_indentation(text, prefix, suffix) == "        return 1\n    else:\n        return -1\n"


def test_a_gap_that_opens_a_nested_definition_keeps_its_body():
    prefix = "def outer(s):\n"
    text = "    def inner(x):\n        depth = 0\n        for c in x:\n"
    suffix = "            depth += 1\n"
    assert limit_scope_by_indentation(text, prefix, suffix) == text


def test_in_a_method_a_new_method_is_past_the_gap():
    prefix = "class A:\n    def m(self):\n        "
    text = "return 1\n\n    def other(self):\n        pass\n"
    assert limit_scope_by_indentation(text, prefix, "\n") == "return 1\n\n"
