"""What every built-in language shares: loading, thread safety, the protocol."""

from concurrent.futures import ThreadPoolExecutor

import pytest

from codequorum.plugins.languages.base import Language, SyntaxVerdict, TreeSitterLanguage
from codequorum.plugins.languages.cpp import CppLanguage
from codequorum.plugins.languages.go import GoLanguage
from codequorum.plugins.languages.java import JavaLanguage
from codequorum.plugins.languages.javascript import JavaScriptLanguage
from codequorum.plugins.languages.python import PythonLanguage
from codequorum.plugins.languages.rust import RustLanguage
from codequorum.plugins.languages.typescript import TsxLanguage, TypeScriptLanguage

HELLO = {
    PythonLanguage: "print('hello')\n",
    JavaScriptLanguage: "console.log('hello');\n",
    TypeScriptLanguage: "const greet = (name: string): string => name;\n",
    TsxLanguage: "const el = (name: string) => <b>{name}</b>;\n",
    GoLanguage: "package main\n\nfunc main() {\n\tprintln(\"hello\")\n}\n",
    RustLanguage: "fn main() {\n    println!(\"hello\");\n}\n",
    JavaLanguage: "class Hello {\n    void run() { System.out.println(\"hello\"); }\n}\n",
    CppLanguage: "#include <cstdio>\nint main() { std::puts(\"hello\"); }\n",
}


@pytest.mark.parametrize("language_class", list(HELLO))
def test_every_language_loads_its_grammar_and_meets_the_protocol(language_class):
    language = language_class()
    assert isinstance(language, Language)
    assert language.syntax_issues(HELLO[language_class]) == 0
    assert language.syntax_issues(HELLO[language_class].replace("(", "", 1)) > 0
    assert isinstance(language.insertion_verdict("", "", ""), SyntaxVerdict)
    assert all(extension.startswith(".") for extension in language.extensions)


def test_parsers_are_reused_within_a_thread():
    language = PythonLanguage()
    language.parse(b"x = 1\n")
    parser = language._local.parser
    language.parse(b"y = 2\n")
    assert language._local.parser is parser


def test_one_instance_can_be_used_from_many_threads():
    language = PythonLanguage()
    cases = [("return 1", True), ("return 1 +", False)]

    def check(index: int) -> bool:
        snippet, expected = cases[index % 2]
        return language.insertion_verdict("def f():\n    ", snippet, "\n").ok is expected

    with ThreadPoolExecutor(max_workers=8) as pool:
        assert all(pool.map(check, range(200)))


def test_non_ascii_text_uses_byte_offsets_correctly():
    language = PythonLanguage()
    verdict = language.insertion_verdict("def grüß():\n    s = 'ü'\n    ", "return s + 'é'", "\n")
    assert verdict.ok and verdict.balanced and verdict.complete


def test_subclasses_must_provide_a_grammar():
    class NoGrammar(TreeSitterLanguage):
        name = "none"

    with pytest.raises(TypeError):
        NoGrammar()  # type: ignore[abstract]
