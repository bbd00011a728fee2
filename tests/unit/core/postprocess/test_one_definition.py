from codequorum.core.postprocess.one_definition import keep_one_definition


def test_at_the_end_of_a_file_one_function_is_suggested():
    text = "def g(x):\n    return x * 2\n\n\ndef h(x):\n    return x\n"
    assert keep_one_definition(text, "def f():\n    pass\n\n\n", "") == "def g(x):\n    return x * 2\n\n\n"


def test_top_level_code_after_the_definition_ends_it():
    text = "def g(x):\n    return x\n\nif __name__ == '__main__':\n    print(g(1))\n"
    assert keep_one_definition(text, "import os\n\n", "") == "def g(x):\n    return x\n\n"


def test_a_header_typed_by_the_user_gets_its_body_only():
    prefix = "def f(x):"
    text = "\n    return x + 1\n\ndef g():\n    pass\n"
    assert keep_one_definition(text, prefix, "") == "\n    return x + 1\n\n"


def test_between_methods_one_method_is_suggested():
    prefix = "class A:\n    def m(self):\n        return 1\n\n    "
    text = "def n(self):\n        return 2\n\n    @property\n    def o(self):\n        return 3\n"
    assert keep_one_definition(text, prefix, "\n") == "def n(self):\n        return 2\n\n"


def test_a_closing_brace_stays_with_its_function():
    text = "function g() {\n  return 1;\n}\n\nfunction h() {\n  return 2;\n}\n"
    assert keep_one_definition(text, "const a = 1;\n", "") == "function g() {\n  return 1;\n}\n\n"


def test_the_body_after_a_nested_definition_is_still_the_gap():
    prefix = "def outer(s):\n"
    text = "    def inner(x):\n        return x + 1\n    total = inner(s)\n    return total\n"
    assert keep_one_definition(text, prefix, "") == text


def test_statements_without_a_definition_are_left_to_the_other_filters():
    text = "x = 1\ny = 2\n\nprint(x + y)\n"
    assert keep_one_definition(text, "", "") == text


def test_a_definition_after_plain_statements_is_kept_whole():
    text = "x = 1\ndef g():\n    pass"
    assert keep_one_definition(text, "import os\n", "") == text


def test_a_multi_line_signature_is_one_header():
    text = "def g(\n    a,\n    b,\n):\n    return a + b\n\nprint(g(1, 2))\n"
    assert keep_one_definition(text, "", "") == "def g(\n    a,\n    b,\n):\n    return a + b\n\n"


def test_a_decorated_class_is_one_definition():
    text = "@dataclass\nclass P:\n    x: int\n    def norm(self):\n        return abs(self.x)\n\n@dataclass\nclass Q:\n    y: int\n"
    assert keep_one_definition(text, "", "") == "@dataclass\nclass P:\n    x: int\n    def norm(self):\n        return abs(self.x)\n\n"
