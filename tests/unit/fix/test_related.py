"""The functions a fix may change together: traceback frames, the failing tests' calls, callees."""

from __future__ import annotations

from pathlib import Path, PurePosixPath

import pytest

from codequorum.fix import related
from codequorum.fix.related import locate_site
from codequorum.plugins.languages.python import PythonLanguage

REPORT = '''\
"""Invoices."""


def _rounded(value):
    return int(value * 100) / 100


def _tax(amount, rate):
    return _rounded(amount * rate)


def total(amount, rate):
    return amount + _tax(amount, rate)


def unrelated():
    return 0
'''

ASSERT_ONLY = """\
___ test_total ___
tests/test_invoice.py:5: in test_total
    assert total(10.0, 0.155) == 11.55
E   assert 11.54 == 11.55
"""

THROUGH_TWO_FRAMES = """\
Traceback (most recent call last):
  File "/sandbox/check.py", line 3, in <module>
    print(summary([]))
  File "/sandbox/stats.py", line 6, in summary
    return f"{mean(values):.1f}"
  File "/sandbox/stats.py", line 2, in mean
    return sum(values) / len(values)
ZeroDivisionError: division by zero
"""


@pytest.fixture
def python() -> PythonLanguage:
    return PythonLanguage()


def _project(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    return root


def _names(site) -> list[tuple[str, str]]:
    return [(str(loc.path), loc.definition.name) for loc in site.functions]


def test_a_wrong_result_brings_the_tested_function_and_its_helpers(tmp_path, python):
    project = _project(tmp_path, {"billing/invoice.py": REPORT, "tests/test_invoice.py":
                                  "from billing.invoice import total\n\n\ndef test_total():\n"
                                  "    assert total(10.0, 0.155) == 11.55\n"})
    site = locate_site(ASSERT_ONLY, project, "/sandbox", python)
    assert site is not None
    # total first (the failure points at it), its callee, then the callee's callee; not `unrelated`
    assert _names(site) == [("billing/invoice.py", "total"), ("billing/invoice.py", "_tax"),
                            ("billing/invoice.py", "_rounded")]
    assert site.files == (PurePosixPath("billing/invoice.py"),)
    assert [loc.definition.name for loc in site.in_file(PurePosixPath("billing/invoice.py"))] == [
        "_rounded", "_tax", "total"]  # source order


def test_every_frame_of_the_traceback_in_the_code_is_taken_innermost_first(tmp_path, python):
    stats = ("def mean(values):\n    return sum(values) / len(values)\n\n\n"
             "def summary(values):\n    return f\"{mean(values):.1f}\"\n")
    project = _project(tmp_path, {"stats.py": stats, "check.py": "from stats import summary\n\nprint(summary([]))\n"})
    site = locate_site(THROUGH_TWO_FRAMES, project, "/sandbox", python)
    assert site is not None and _names(site) == [("stats.py", "mean"), ("stats.py", "summary")]


def test_two_failing_tests_bring_the_two_functions_they_call(tmp_path, python):
    project = _project(tmp_path, {
        "calc/ops.py": "def add(a, b):\n    return a - b\n\n\ndef mul(a, b):\n    return a + b\n",
        "tests/test_ops.py": "from calc.ops import add, mul\n\n\ndef test_add():\n    assert add(2, 3) == 5\n\n\n"
                             "def test_mul():\n    assert mul(2, 3) == 6\n"})
    output = ("tests/test_ops.py:5: in test_add\n    assert add(2, 3) == 5\nE   assert -1 == 5\n"
              "tests/test_ops.py:9: in test_mul\n    assert mul(2, 3) == 6\nE   assert 5 == 6\n")
    site = locate_site(output, project, "/sandbox", python)
    assert site is not None and site.names == ("add", "mul")


def test_callees_in_other_files_only_when_defined_once(tmp_path, python):
    project = _project(tmp_path, {
        "app/main.py": "from app.util import clean, norm\n\n\ndef run(x):\n    return clean(norm(x))\n",
        "app/util.py": "def clean(x):\n    return x.strip()\n\n\ndef norm(x):\n    return x.lower()\n",
        "app/other.py": "def norm(x):\n    return x\n",
        "tests/test_main.py": "from app.main import run\n\n\ndef test_run():\n    assert run(' A ') == 'a'\n"})
    output = "tests/test_main.py:5: in test_run\n    assert run(' A ') == 'a'\nE   AssertionError\n"
    site = locate_site(output, project, "/sandbox", python)
    assert site is not None and _names(site) == [("app/main.py", "run"), ("app/util.py", "clean")]
    # confined to one file (the editor, or a file named on the command line): nothing from elsewhere
    alone = locate_site(output, project, "/sandbox", python, PurePosixPath("app/main.py"))
    assert alone is not None and _names(alone) == [("app/main.py", "run")]


def test_nested_functions_and_taken_names_are_left_out(tmp_path, python):
    source = ("def outer(xs):\n    def key(x):\n        return -x\n    return sorted(xs, key=key)\n\n\n"
              "class A:\n    def outer(self):\n        return 1\n")
    project = _project(tmp_path, {"m.py": source, "test_m.py":
                                  "from m import outer\n\n\ndef test_outer():\n    assert outer([2, 1]) == [1, 2]\n"})
    output = "test_m.py:5: in test_outer\n    assert outer([2, 1]) == [1, 2]\nE   AssertionError\n"
    site = locate_site(output, project, "/sandbox", python)
    assert site is not None and _names(site) == [("m.py", "outer")]


def test_the_limits_keep_the_located_function_first(tmp_path, python, monkeypatch):
    chain = "".join(f"def f{i}(x):\n    return f{i + 1}(x)\n\n\n" for i in range(8)) + "def f8(x):\n    return x\n"
    project = _project(tmp_path, {"chain.py": chain, "test_chain.py":
                                  "from chain import f0\n\n\ndef test_f0():\n    assert f0(1) == 2\n"})
    output = "test_chain.py:5: in test_f0\n    assert f0(1) == 2\nE   assert 1 == 2\n"
    site = locate_site(output, project, "/sandbox", python, limit=10)
    assert site is not None and site.names == ("f0", "f1", "f2")  # callees two calls deep
    assert locate_site(output, project, "/sandbox", python, limit=2).names == ("f0", "f1")
    monkeypatch.setattr(related, "MAX_CODE_CHARS", 10)
    assert locate_site(output, project, "/sandbox", python).names == ("f0",)


def test_nothing_located_is_no_site(tmp_path, python):
    assert locate_site("ERROR: something else\n", tmp_path, "/sandbox", python) is None


def test_callees_are_read_from_the_whole_body(python):
    source = "def f(x):\n    y = g(x)\n    return obj.h(y) + k(\n        y)\n"
    assert python.called_names(source, 1, 4) == ["g", "h", "k"]
    assert python.called_names(source, 2) == ["g"]


def test_what_a_failing_test_sets_up_is_taken_after_what_its_failing_line_calls(tmp_path, python):
    source = ("class Stock:\n    def __init__(self):\n        self.items = {}\n\n    def add(self, name, n):\n"
              "        self.items[name] = n\n\n    def count(self, name):\n        return self.items.get(name, 0)\n\n"
              "    def clear(self):\n        self.items = {}\n")
    test = ("from stock import Stock\n\n\ndef test_add_twice():\n    stock = Stock()\n    stock.add('a', 1)\n"
            "    stock.add('a', 2)\n    assert stock.count('a') == 3\n")
    project = _project(tmp_path, {"stock.py": source, "test_stock.py": test})
    output = "test_stock.py:8: in test_add_twice\n    assert stock.count('a') == 3\nE   assert 2 == 3\n"
    site = locate_site(output, project, "/sandbox", python)
    assert site is not None and site.names == ("count", "add")  # not `clear`, never called


def test_a_tested_function_failing_through_one_already_taken_is_a_knock_on_effect(tmp_path, python):
    project = _project(tmp_path, {
        "calc/ops.py": "def add(a, b):\n    return a - b\n\n\ndef double(x):\n    return add(x, x)\n\n\n"
                       "def half(x):\n    return x * 2\n",
        "tests/test_ops.py": "from calc.ops import add, double, half\n\n\ndef test_add():\n    assert add(2, 3) == 5\n\n\n"
                             "def test_double():\n    assert double(4) == 8\n\n\ndef test_half():\n    assert half(4) == 2\n"})
    output = ("tests/test_ops.py:5: in test_add\n    assert add(2, 3) == 5\nE   assert -1 == 5\n"
              "tests/test_ops.py:9: in test_double\n    assert double(4) == 8\nE   assert 0 == 8\n"
              "tests/test_ops.py:13: in test_half\n    assert half(4) == 2\nE   assert 8 == 2\n")
    site = locate_site(output, project, "/sandbox", python)
    assert site is not None and site.names == ("add", "half")  # double fails through add; half on its own
