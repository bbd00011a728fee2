"""The whole pipeline on FIM answers as the models give them: the text, inserted at the
cursor, gives the program the user would have typed."""

import pytest

from codequorum.core.postprocess import clean
from codequorum.vocabulary.request import completion_request

FUNCTION = '''def count(words):
    seen = {}
    for word in words:
        seen[word] = seen.get(word, 0) + 1
    return seen
'''


def filled(document: str, cursor: int, raw: str, from_chat: bool = False) -> str:
    request = completion_request(document, cursor, language="python")
    return document[:cursor] + clean(raw, request, from_chat) + document[cursor:]


def gap(program: str, first: str, last: str | None = None) -> tuple[str, int]:
    """The program without its lines `first`..`last`, and the cursor where they were."""
    start = program.index(first)
    end = program.index(last or first, start)
    end = program.index("\n", end) + 1
    return program[:start] + program[end:], start


@pytest.mark.parametrize("raw", [
    "    seen = {}\n",  # the 1.5B: the line and its line break
    "    seen = {}",  # no line break
    "    seen = {}\n    for word in words:\n",  # runs on into the suffix
])
def test_a_whole_line_in_front_of_code_keeps_its_line_break(raw):
    document, cursor = gap(FUNCTION, "    seen = {}")
    assert filled(document, cursor, raw) == FUNCTION


def test_a_multi_line_gap_is_filled_whole():
    document, cursor = gap(FUNCTION, "    for word", "seen[word]")
    raw = "    for word in words:\n        seen[word] = seen.get(word, 0) + 1\n"
    assert filled(document, cursor, raw) == FUNCTION


def test_a_model_that_runs_past_the_gap_is_cut_where_the_suffix_starts():
    document, cursor = gap(FUNCTION, "    for word", "seen[word]")
    raw = ("    for word in words:\n        seen[word] = seen.get(word, 0) + 1\n    return seen\n"
           "\n\nprint(count(['a']))\n")
    assert filled(document, cursor, raw) == FUNCTION


def test_at_the_end_of_a_function_the_gap_ends_with_the_function():
    document, cursor = gap(FUNCTION, "    return seen")
    raw = "    return seen\n\n\ndef main():\n    print(count([]))\n"
    assert filled(document, cursor, raw) == FUNCTION


def test_an_empty_line_gets_its_code_without_an_extra_line_break():
    document = FUNCTION.replace("    return seen\n", "    \n    return seen\n")
    cursor = document.index("    \n") + 4
    assert filled(document, cursor, "seen.pop('', None)\n") == document.replace(
        "    \n", "    seen.pop('', None)\n")


def test_inside_a_line_the_closing_bracket_is_not_doubled():
    document = "print(sorted())\n"
    assert filled(document, len("print(sorted("), "values))\nmore()") == "print(sorted(values))\n"


def test_a_chat_answer_is_fitted_the_same_way():
    document, cursor = gap(FUNCTION, "    seen = {}")
    raw = "```python\n    seen = {}\n```"
    assert filled(document, cursor, raw, from_chat=True) == FUNCTION
