"""A candidate as a multi-region edit: several functions, new helpers, several files."""

from __future__ import annotations

from pathlib import PurePosixPath

from codequorum.fix.candidates import AnsweredFunctions
from codequorum.fix.edit import edited_files
from codequorum.fix.locate import Location
from codequorum.fix.related import FixSite
from codequorum.plugins.languages.failures import Definition
from codequorum.plugins.languages.python import PythonLanguage

STATS = ('"""Averages."""\n\n\ndef mean(values):\n    return sum(values) / (len(values) - 1)\n\n\n'
         "def spread(values):\n    return max(values) - max(values)\n")
PATH = PurePosixPath("stats.py")


def _site() -> FixSite:
    return FixSite((Location(PATH, Definition("spread", 8, 9, ""), STATS),
                    Location(PATH, Definition("mean", 4, 5, ""), STATS)))


def test_two_regions_of_one_file_are_replaced_whatever_their_length():
    answered = AnsweredFunctions({
        "mean": "def mean(values):\n    if not values:\n        return 0.0\n    return sum(values) / len(values)\n",
        "spread": "def spread(values):\n    return max(values) - min(values)\n"})
    [(path, text)] = edited_files(_site(), answered, PythonLanguage()).items()
    assert path == PATH
    assert text == ('"""Averages."""\n\n\ndef mean(values):\n    if not values:\n        return 0.0\n'
                    "    return sum(values) / len(values)\n\n\n"
                    "def spread(values):\n    return max(values) - min(values)\n")


def test_a_function_the_answer_leaves_out_stays_as_it_is():
    answered = AnsweredFunctions({"spread": "def spread(values):\n    return 0\n"})
    text = edited_files(_site(), answered, PythonLanguage())[PATH]
    assert "return sum(values) / (len(values) - 1)" in text and "    return 0\n" in text


def test_a_new_helper_goes_above_the_first_function_calling_it():
    answered = AnsweredFunctions(
        {"mean": "def mean(values):\n    return sum(values) / _count(values)\n"},
        {"_count": "def _count(values):\n    return _at_least_one(len(values))\n",
         "_at_least_one": "def _at_least_one(n):\n    return max(n, 1)\n"})
    text = edited_files(_site(), answered, PythonLanguage())[PATH]
    assert text.startswith('"""Averages."""\n\n\ndef _count(values):\n    return _at_least_one(len(values))\n\n\n'
                           "def _at_least_one(n):\n    return max(n, 1)\n\n\n"
                           "def mean(values):\n    return sum(values) / _count(values)\n\n\ndef spread")
    compile(text, "stats.py", "exec")


def test_methods_are_reindented_and_a_method_helper_joins_the_class():
    source = "class Box:\n    def size(self):\n        return 0\n\n    def area(self):\n        return self.size()\n"
    path = PurePosixPath("box.py")
    site = FixSite((Location(path, Definition("size", 2, 3, "    "), source),
                    Location(path, Definition("area", 5, 6, "    "), source)))
    answered = AnsweredFunctions({"size": "def size(self):\n    return self._side() ** 2\n"},
                                 {"_side": "def _side(self):\n    return 3\n"})
    text = edited_files(site, answered, PythonLanguage())[path]
    assert text == ("class Box:\n    def _side(self):\n        return 3\n\n    def size(self):\n"
                    "        return self._side() ** 2\n\n    def area(self):\n        return self.size()\n")
    namespace: dict = {}
    exec(text, namespace)  # noqa: S102 - the spliced class, as Python reads it
    assert namespace["Box"]().area() == 9


def test_functions_in_two_files_give_two_edited_files():
    ops = "def add(a, b):\n    return a - b\n"
    use = "from ops import add\n\n\ndef twice(x):\n    return add(x, x) + 1\n"
    site = FixSite((Location(PurePosixPath("ops.py"), Definition("add", 1, 2, ""), ops),
                    Location(PurePosixPath("use.py"), Definition("twice", 4, 5, ""), use)))
    answered = AnsweredFunctions({"twice": "def twice(x):\n    return add(x, x)\n",
                                  "add": "def add(a, b):\n    return a + b\n"})
    edited = edited_files(site, answered, PythonLanguage())
    assert edited == {PurePosixPath("ops.py"): "def add(a, b):\n    return a + b\n",
                      PurePosixPath("use.py"): "from ops import add\n\n\ndef twice(x):\n    return add(x, x)\n"}
