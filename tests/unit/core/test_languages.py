import pytest

from codequorum.core.registry import Registry
from codequorum.core.languages import Languages
from codequorum.vocabulary.scope import scope_at


@pytest.fixture(scope="module")
def languages() -> Languages:
    return Languages(Registry())


@pytest.mark.parametrize(("prefix", "suffix", "scope"), [
    ("def f():\n    ", "\n", "block"),
    ("x = foo(", ")\n", "line"),
    ("total = ", "\n", "line"),
    ("if ready:", "\n", "block"),
    ("", "", "block"),
    ("def f(x):\n", "    return x\n", "block"),  # the start of a line, in front of code
    ("def f(x):\n    ", "return x\n", "block"),  # after the indentation, in front of code
])
def test_text_rule(prefix, suffix, scope):
    assert scope_at(prefix, suffix) == scope


def test_the_language_plugin_decides_the_scope(languages):
    assert languages.scope("python", "def f(values):\n    ", "\n") == "block"
    assert languages.scope("python", "result = compute(", ")\n") == "line"


def test_a_failing_plugin_falls_back_to_the_text_rule(languages, monkeypatch):
    plugin = languages.plugin("python")
    monkeypatch.setattr(plugin, "completion_scope", lambda p, s: 1 / 0)
    assert languages.scope("python", "x = ", "\n") == "line"


def test_an_unknown_language_uses_the_text_rule(languages):
    assert languages.plugin("cobol") is None
    assert languages.scope("cobol", "MOVE ", "\n") == "line"


def test_names_come_from_the_editor_language_id_then_the_extension(languages):
    from pathlib import PurePath
    assert languages.name_for("python", None) == "python"
    assert languages.name_for(None, PurePath("a/b.rs")) == "rust"
    assert languages.name_for("plaintext", PurePath("notes.txt")) == "plaintext"
    assert languages.comment_prefix("rust") == "//" and languages.comment_prefix("python") == "#"
