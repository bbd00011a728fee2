"""The transformers backend on the real SmolLM2-135M GGUF file, on the CPU.

Needs the `transformers` extra (torch 2.13.0 CPU, transformers, gguf, accelerate): without
it this fails and says so. Loading dequantizes the GGUF in pure Python (about 25 s here),
so the model is loaded once for the module and every sample is short.
"""

from __future__ import annotations

import importlib.util

import pytest

from codequorum.config import settings_from_dict
from codequorum.core.registry import Registry
from codequorum.core.runtime import Runtime
from codequorum.plugins.backends.llama_cpp import LlamaCppBackend
from codequorum.plugins.backends.transformers import TransformersBackend
from codequorum.vocabulary.cancel import CancelToken
from codequorum.vocabulary.generation import ChatMessage, GenerationParams, Prompt

pytestmark = [pytest.mark.e2e, pytest.mark.transformers]

HELLO = Prompt("chat", messages=(ChatMessage("user", "Write hello world in Python."),))


@pytest.fixture(scope="module")
def runtime() -> Runtime:
    return Runtime.create(settings_from_dict(
        {"members": {"smollm2-hf": {"backend": "transformers", "model": "smollm2-135m"}}}, source="test"
    ))


@pytest.fixture(scope="module")
def smollm2_hf(runtime, installed_models) -> TransformersBackend:
    missing = [name for name in ("torch", "transformers", "gguf", "accelerate")
               if importlib.util.find_spec(name) is None]
    if missing:
        pytest.fail(f"the transformers backend test needs {', '.join(missing)}: "
                    "pip install -e '.[transformers]' (or deselect it: -m 'not transformers')")
    backend_cls = Registry().load("backends", "transformers")  # through its entry point
    backend = backend_cls(runtime.settings.members["smollm2-hf"], runtime)
    backend.load()
    return backend


async def test_greedy_chat_matches_llama_cpp_on_the_same_gguf(smollm2_hf, runtime):
    params = GenerationParams(max_tokens=8)
    [hf] = await smollm2_hf.generate(HELLO, params, CancelToken())
    local = LlamaCppBackend(runtime.settings.members["smollm2"], runtime)
    try:
        [cpp] = await local.generate(HELLO, params, CancelToken())
    finally:
        await local.aclose()
    assert hf.text == cpp.text and hf.tokens == cpp.tokens == 8 and hf.prompt_tokens == cpp.prompt_tokens
    # transformers runs the de-quantized fp32 weights, llama.cpp the Q4_1 ones with its own SIMD
    # kernels (which differ between CPUs): 0.04 apart on this machine; the same text and token
    # count are the real check, the log-probabilities only have to be the same quantity.
    assert hf.mean_logprob == pytest.approx(cpp.mean_logprob, abs=0.08)


async def test_generation_ends_on_the_end_of_turn_token(smollm2_hf):
    prompt = Prompt("chat", messages=(ChatMessage("user", "Say OK."),))
    [sample] = await smollm2_hf.generate(prompt, GenerationParams(max_tokens=16), CancelToken())
    assert sample.finish_reason == "stop" and 0 < sample.tokens < 16
    assert sample.text.strip() and "<|" not in sample.text


async def test_raw_text_prompt_stops_at_a_stop_string(smollm2_hf):
    prompt = Prompt("fim", text="def add(a, b):")
    [sample] = await smollm2_hf.generate(prompt, GenerationParams(max_tokens=12, stop=("+",)), CancelToken())
    assert sample.text.strip() and "+" not in sample.text and sample.finish_reason == "stop"
    assert sample.mean_logprob is not None and sample.mean_logprob < 0
