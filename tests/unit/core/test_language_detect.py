from pathlib import Path

import pytest

from codequorum.plugins.languages.cpp import CppLanguage
from codequorum.core.languages import (
    language_for_fence,
    language_for_name,
    language_for_path,
)
from codequorum.plugins.languages.go import GoLanguage
from codequorum.plugins.languages.java import JavaLanguage
from codequorum.plugins.languages.javascript import JavaScriptLanguage
from codequorum.plugins.languages.python import PythonLanguage
from codequorum.plugins.languages.rust import RustLanguage
from codequorum.plugins.languages.typescript import TsxLanguage, TypeScriptLanguage

LANGUAGES: dict[str, type] = {
    "cpp": CppLanguage, "go": GoLanguage, "java": JavaLanguage, "javascript": JavaScriptLanguage,
    "python": PythonLanguage, "rust": RustLanguage, "typescript": TypeScriptLanguage,
}


@pytest.mark.parametrize(("path", "expected"), [
    ("src/app.py", "python"), ("stubs/mod.pyi", "python"), ("web/App.JSX", "javascript"),
    ("index.mjs", "javascript"), ("main.ts", "typescript"), ("main.go", "go"),
    ("lib.rs", "rust"), ("Main.java", "java"), ("a.cpp", "cpp"), ("a.c", "cpp"),
    ("include/a.h", "cpp"), ("a.hpp", "cpp"), ("README.md", None), ("Makefile", None),
])
def test_language_for_path(path, expected):
    assert language_for_path(path, LANGUAGES) == expected
    assert language_for_path(Path(path), LANGUAGES) == expected


def test_tsx_files_need_the_tsx_plugin():
    assert language_for_path("App.tsx", LANGUAGES) is None
    assert language_for_path("App.tsx", {**LANGUAGES, "tsx": TsxLanguage}) == "tsx"


def test_the_longest_extension_wins():
    class DeclarationFiles:
        extensions = (".d.ts",)

    languages = {**LANGUAGES, "dts": DeclarationFiles}
    assert language_for_path("types/index.d.ts", languages) == "dts"
    assert language_for_path("index.ts", languages) == "typescript"


@pytest.mark.parametrize(("tag", "expected"), [
    ("python", "python"), ("py", "python"), ("Python3", "python"), ("js", "javascript"),
    ("ts", "typescript"), ("golang", "go"), ("rs", "rust"), ("c++", "cpp"), ("c", "cpp"),
    ("python title=example.py", "python"), ("{.rust}", "rust"), ("", None), ("text", None),
])
def test_language_for_fence(tag, expected):
    assert language_for_fence(tag, LANGUAGES) == expected


@pytest.mark.parametrize(("name", "expected"), [
    ("python", "python"), ("javascriptreact", "javascript"), ("c", "cpp"), ("JS", "javascript"),
    ("cobol", None),
])
def test_language_for_name(name, expected):
    assert language_for_name(name, LANGUAGES) == expected


def test_plugins_without_the_attributes_are_skipped():
    assert language_for_path("a.py", {"odd": object, **LANGUAGES}) == "python"
    assert language_for_fence("py", {"odd": object, **LANGUAGES}) == "python"
