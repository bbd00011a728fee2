"""`[fim_templates.NAME]`: custom FIM formats, validated when the configuration loads and used
by the members that name them; the built-ins are the same kind of table."""

from __future__ import annotations

import pytest

from codequorum.config import default_fim_templates, settings_from_dict
from codequorum.core.engine import Engine
from codequorum.core.prompts import FIM_TEMPLATES, FimTemplate, build_prompt
from codequorum.vocabulary.errors import ConfigError
from codequorum.vocabulary.request import completion_request
from tests.unit.doubles import ScriptedBackend, scripted_registry, scripted_settings

CODEGEMMA = {"prefix": "<|fim_prefix|>", "suffix": "<|fim_suffix|>", "middle": "<|fim_middle|>",
             "stop": ["<|file_separator|>", "<eos>"]}


def test_the_builtins_are_tables_like_yours():
    settings = settings_from_dict({}, "test")
    assert sorted(settings.fim_templates) == ["codellama", "deepseek", "qwen", "starcoder"]
    for name, values in default_fim_templates().items():
        assert FIM_TEMPLATES[name] == FimTemplate.from_config(settings.fim_templates[name])
        assert settings.fim_templates[name].model_dump(exclude_defaults=True) == values


def test_an_unknown_template_is_an_error_at_load_naming_the_known_ones():
    with pytest.raises(ConfigError) as raised:
        settings_from_dict({"members": {"qwen-small": {"fim": "codegemma"}}}, "codequorum.toml")
    message = str(raised.value)
    assert "members.qwen-small.fim = 'codegemma' is not a FIM template" in message
    assert "known: codellama, deepseek, qwen, starcoder" in message and "[fim_templates.codegemma]" in message
    assert "got {" not in message  # not the whole configuration dumped back


def test_a_template_of_your_own_is_known_and_bound_to_its_member():
    settings = settings_from_dict({"fim_templates": {"codegemma": CODEGEMMA},
                                   "members": {"qwen-small": {"fim": "codegemma"}}}, "test")
    template = settings.members["qwen-small"].fim_template
    assert template is settings.fim_templates["codegemma"] and template.order == "prefix-suffix-middle"
    assert settings.members["qwen-large"].fim_template is settings.fim_templates["qwen"]


def test_a_builtin_can_be_adjusted_key_by_key():
    settings = settings_from_dict({"fim_templates": {"qwen": {"stop": ["<|endoftext|>"]}}}, "test")
    qwen = settings.fim_templates["qwen"]
    assert qwen.stop == ["<|endoftext|>"] and qwen.prefix == "<|fim_prefix|>" and qwen.file_sep == "<|file_sep|>"


@pytest.mark.parametrize(("table", "error"), [
    ({"prefix": "<a>", "suffix": "<a>", "middle": "<m>"}, "three different markers"),
    ({"prefix": "", "suffix": "<s>", "middle": "<m>"}, "fim_templates.x.prefix"),
    ({"prefix": "<p>", "suffix": "<s>"}, "fim_templates.x.middle: Field required"),
    ({"prefix": "<p>", "suffix": "<s>", "middle": "<m>", "order": "psm"}, "'suffix-prefix-middle'"),
    ({"prefix": "<p>", "suffix": "<s>", "middle": "<m>", "stop": [""]}, "stop string must not be empty"),
    ({"prefix": "<p>", "suffix": "<s>", "middle": "<m>", "stops": []}, "fim_templates.x.stops: unknown key"),
])
def test_a_bad_template_is_refused_at_load(table, error):
    with pytest.raises(ConfigError, match=error):
        settings_from_dict({"fim_templates": {"x": table}}, "test")


def test_suffix_prefix_middle_puts_the_suffix_part_first():
    spm = FimTemplate("<PRE>", "<SUF>", "<MID>", ("<EOT>",), order="suffix-prefix-middle")
    prompt = build_prompt(completion_request("def f():\n    return 1\n", 13), spm)
    assert prompt.text == "<SUF>return 1\n<PRE>def f():\n    <MID>"
    assert prompt.stop[0] == "<EOT>"


async def test_a_member_asks_its_model_in_its_own_template():
    settings = scripted_settings({"gemma": {"fim": "codegemma", "options": {"replies": ["1"]}}},
                                 fim_templates={"codegemma": CODEGEMMA | {"order": "suffix-prefix-middle"}})
    engine = Engine(settings, scripted_registry())
    ScriptedBackend.prompts.clear()
    await engine.run(completion_request("x = \ny = 2\n", 4), strategy="single")
    [prompt] = ScriptedBackend.prompts
    assert prompt.kind == "fim" and prompt.text == "<|fim_suffix|>\ny = 2\n<|fim_prefix|>x = <|fim_middle|>"
    assert "<|file_separator|>" in prompt.stop
    await engine.aclose()


def test_a_fused_member_prompts_in_the_template_of_its_members():
    from codequorum.core.member import Member
    from codequorum.plugins.strategies.logit_fusion import fused_member

    class FimBackend:
        supports_fim = True

    settings = settings_from_dict({"fim_templates": {"codegemma": CODEGEMMA},
                                   "members": {"qwen-small": {"fim": "codegemma"}}}, "test")
    fused = fused_member([Member(settings.members["qwen-small"], FimBackend())], FimBackend())
    assert fused.fim_template == FimTemplate.from_config(settings.fim_templates["codegemma"])
