from __future__ import annotations

from pathlib import PurePosixPath

from codequorum.core.prompts import build_prompt
from codequorum.fix.candidates import (
    failure_tail,
    fix_request,
    function_in_answer,
)
from codequorum.fix.edit import splice
from codequorum.fix.locate import Location
from codequorum.fix.related import FixSite
from codequorum.plugins.languages.failures import Definition
from codequorum.plugins.languages.python import PythonLanguage
from codequorum.vocabulary.request import TaskKind

SOURCE = "class Box:\n    def size(self):\n        return 0\n\n    def other(self):\n        pass\n"


def _location() -> Location:
    return Location(PurePosixPath("box.py"), Definition("size", 2, 3, "    "), SOURCE)


def test_the_fix_request_carries_the_function_and_the_failure():
    request = fix_request(FixSite((_location(),)), "E   assert 0 == 1\n", "python", 64, 30.0)
    assert request.kind is TaskKind.FIX
    assert request.prefix == "    def size(self):\n        return 0\n"
    prompt = build_prompt(request, fim="qwen")  # FIX is always a chat prompt
    assert prompt.kind == "chat"
    user = prompt.messages[-1].content
    assert "def size(self)" in user and "assert 0 == 1" in user
    assert "whole corrected function" in prompt.messages[0].content


def test_failure_tail_keeps_the_end_at_a_line_boundary():
    text = "\n".join(f"line {i}" for i in range(1000))
    tail = failure_tail(text, limit=50)
    assert tail.startswith("...\n") and tail.endswith("line 999")
    assert all(row.startswith("line ") for row in tail.splitlines()[1:])


def test_the_named_function_is_taken_from_a_chatty_answer():
    answer = "import math\n\n    def size(self):\n        return 1\n\nprint(Box().size())\n"
    assert function_in_answer(answer, "size", PythonLanguage()) == "def size(self):\n    return 1\n"
    assert function_in_answer("def other():\n    pass\n", "size", PythonLanguage()) is None


def test_the_outermost_definition_wins_over_a_nested_one():
    answer = "def f():\n    def f():\n        return 2\n    return f()\n"
    assert function_in_answer(answer, "f", PythonLanguage()) == answer


def test_splice_reindents_into_place():
    fixed = splice(_location(), "def size(self):\n    return 1\n")
    assert fixed == "class Box:\n    def size(self):\n        return 1\n\n    def other(self):\n        pass\n"


def test_splice_keeps_blank_lines_blank():
    location = Location(PurePosixPath("m.py"), Definition("f", 1, 2, ""), "def f():\n    return 0\n")
    assert splice(location, "def f():\n\n    return 1\n") == "def f():\n\n    return 1\n"
