import pytest

from codequorum.core.prompts import build_prompt, fim_template
from codequorum.vocabulary.request import ContextSnippet, Request, TaskKind, completion_request, offset_of


def test_qwen_fim_prompt_layout_and_stops():
    request = completion_request("def f():\n    return 1\n", 13, language="python")
    prompt = build_prompt(request, "qwen")
    assert prompt.kind == "fim"
    assert prompt.text == "<|fim_prefix|>def f():\n    <|fim_suffix|>return 1\n<|fim_middle|>"
    assert "<|endoftext|>" in prompt.stop and "<|file_sep|>" in prompt.stop


def test_context_from_other_files_comes_first_so_the_kv_cache_can_be_reused():
    request = completion_request("x = ", 4, language="python", path=None,
                                 context=(ContextSnippet("util.py", "def helper(): ..."),))
    text = build_prompt(request, "qwen").text
    assert text.startswith("<|file_sep|>util.py\ndef helper(): ...\n<|file_sep|>")
    assert text.index("util.py") < text.index("<|fim_prefix|>")


def test_chat_only_member_gets_the_cursor_marker():
    request = completion_request("a = 1\nb = ", 10, language="python")
    prompt = build_prompt(request, None)
    assert prompt.kind == "chat"
    assert "a = 1\nb = <CURSOR>" in prompt.messages[-1].content


def test_generate_prompt_carries_instruction_and_visible_tests():
    request = Request(TaskKind.GENERATE, language="python", instruction="Write add(a, b).",
                      tests="assert add(1, 2) == 3")
    prompt = build_prompt(request, "qwen")  # generation always uses chat
    assert prompt.kind == "chat"
    user = prompt.messages[-1].content
    assert "Write add(a, b)." in user and "assert add(1, 2) == 3" in user


def test_unknown_fim_template_is_named():
    with pytest.raises(ValueError, match="unknown FIM template 'nope'"):
        fim_template("nope")


def test_offset_of_is_one_based_and_validated():
    text = "ab\ncd\n"
    assert offset_of(text, 2, 1) == 3
    assert offset_of(text, 2, 3) == 5
    with pytest.raises(ValueError, match="line 9"):
        offset_of(text, 9, 1)
    with pytest.raises(ValueError, match="column 7"):
        offset_of(text, 1, 7)


def test_long_documents_are_clipped_at_line_boundaries():
    text = "".join(f"line{i} = {i}\n" for i in range(2000))
    request = completion_request(text, len(text) // 2)
    assert request.prefix.startswith("line") and len(request.prefix) <= 6000
    assert request.suffix.endswith("\n") and len(request.suffix) <= 2000


def test_fim_stops_where_the_model_would_retype_the_next_line():
    text = "def f():\n    \n\ndef g():\n    pass\n"
    prompt = build_prompt(completion_request(text, 13, language="python"), "qwen")
    assert "\ndef g():" in prompt.stop


def test_short_suffix_lines_are_not_stops():
    prompt = build_prompt(completion_request("{\n  \n}\n", 4), "qwen")
    assert not any(stop.strip() == "}" for stop in prompt.stop)
