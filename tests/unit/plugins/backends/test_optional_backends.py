"""vLLM and transformers are optional extras: without them, a member using them is a clear
error that names the extra, and the other members still answer."""

import sys
import types

import pytest

from codequorum.config import settings_from_dict
from codequorum.core.engine import Engine
from codequorum.core.registry import Registry
from codequorum.plugins.backends.transformers import TransformersBackend
from codequorum.plugins.backends.vllm import VllmBackend
from codequorum.vocabulary.errors import ConfigError, MemberError
from codequorum.vocabulary.request import Request, TaskKind
from tests.unit.doubles import ScriptedBackend


def member(backend: str, **fields):
    data = {"include_default_members": False, "members": {"gpu": {"backend": backend, **fields}}}
    return settings_from_dict(data, source="test").members["gpu"]


def test_both_backends_are_registered_as_entry_points_without_importing_their_libraries():
    registry = Registry()
    assert registry.load("backends", "vllm") is VllmBackend
    assert registry.load("backends", "transformers") is TransformersBackend


def test_a_vllm_member_without_vllm_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "vllm", None)  # as on a machine without vLLM
    with pytest.raises(MemberError, match=r"member gpu uses the vllm backend, but vLLM is not installed: "
                                          r"pip install 'codequorum\[vllm\]'"):
        VllmBackend(member("vllm", model="Qwen/Qwen2.5-Coder-7B-Instruct"), runtime=None)


@pytest.mark.parametrize(("missing", "fields"), [
    ("transformers", {"path": "/models/coder"}),
    ("torch", {"path": "/models/coder"}),
    ("gguf", {"model": "smollm2-135m"}),
    ("gguf", {"path": "/models/coder.gguf"}),
])
def test_a_transformers_member_without_its_libraries_names_the_extra(monkeypatch, missing, fields):
    for present in {"gguf", "transformers"} - {missing}:  # whether installed here or not
        monkeypatch.setitem(sys.modules, present, types.ModuleType(present))
    monkeypatch.setitem(sys.modules, missing, None)
    expected = rf"but {missing} is not installed: pip install 'codequorum\[transformers\]'"
    with pytest.raises(MemberError, match=expected):
        TransformersBackend(member("transformers", **fields), runtime=None)


@pytest.mark.parametrize("backend", ["vllm", "transformers"])
def test_these_members_need_a_model_or_a_path(backend):
    with pytest.raises(ConfigError, match=f"a {backend} member needs `model`"):
        member(backend)


async def test_the_engine_skips_a_vllm_member_it_cannot_build_and_the_others_answer(monkeypatch):
    monkeypatch.setitem(sys.modules, "vllm", None)
    settings = settings_from_dict({"include_default_members": False, "members": {
        "gpu": {"backend": "vllm", "model": "Qwen/Qwen2.5-Coder-7B-Instruct", "quality": 0.9},
        "cpu": {"backend": "scripted", "options": {"replies": ["x = 1"]}},
    }}, source="test")
    registry = Registry(disabled=frozenset({"checks.syntax", "checks.tests"}))
    registry.register("backends", "scripted", ScriptedBackend)
    result = await Engine(settings, registry).run(Request(TaskKind.GENERATE, instruction="x"), "best-of")
    assert result.text.strip() == "x = 1"
    gpu = next(c for c in result.trace.calls if c.member == "gpu")
    assert "pip install 'codequorum[vllm]'" in gpu.error
