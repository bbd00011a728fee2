from codequorum.core.postprocess import early_stop
from codequorum.vocabulary.request import Request, TaskKind, completion_request

DOC = "def f(x):\n    \n\nprint(f(1))\n"


def test_generation_stops_once_a_whole_line_leaves_the_block():
    stop_at = early_stop(completion_request(DOC, 14, language="python"), from_chat=False)
    assert stop_at("return x + 1\n") is None
    assert stop_at("return x + 1\ndef g") is None  # the line is not finished yet
    assert stop_at("return x + 1\ndef g():\n") == len("return x + 1\n")


def test_a_closing_brace_line_may_still_continue():
    doc = "function f() {\n  \n}\nf();\n"
    stop_at = early_stop(completion_request(doc, 17, language="javascript"), from_chat=False)
    assert stop_at("return 1;\n}") is None
    assert stop_at("return 1;\n} else {\n") == len("return 1;\n")


def test_no_early_stop_for_generation():
    assert early_stop(Request(TaskKind.GENERATE, instruction="x"), from_chat=False) is None


def test_chat_answers_stop_after_the_first_code_block():
    stop_at = early_stop(Request(TaskKind.GENERATE, instruction="x"), from_chat=True)
    assert stop_at("Here:\n```python\nx = 1\n") is None
    text = "Here:\n```python\nx = 1\n```"
    assert stop_at(text + "\nThis works because") == len(text)


def test_at_the_end_of_a_file_generation_stops_after_one_definition():
    doc = "import os\n\n\n"
    stop_at = early_stop(completion_request(doc, len(doc), language="python"), from_chat=False)
    assert stop_at("def g():\n    return os.sep\n\n") is None
    assert stop_at("def g():\n    return os.sep\n\ndef h():\n") == len("def g():\n    return os.sep\n\n")


def test_generation_stops_once_it_repeats_itself():
    doc = 'def same(a, b):\n    """\n    \n    """\n'
    cursor = doc.index('    \n') + 4
    stop_at = early_stop(completion_request(doc, cursor, language="python"), from_chat=False)
    example = ">>> same('ab', 'ba')\n    True\n    "
    assert stop_at(example * 2) is None
    assert stop_at(example * 3) == len(example) - len("    ")
