"""The OpenAI-compatible backend against a real `python -m llama_cpp.server` on loopback,
serving the real Qwen2.5-Coder-0.5B file: FIM as raw text, chat, logprobs, stops, cancel."""

from __future__ import annotations

import pytest

from codequorum.config import settings_from_dict
from codequorum.core.prompts import build_prompt
from codequorum.core.runtime import Runtime
from codequorum.plugins.backends.llama_cpp import LlamaCppBackend
from codequorum.plugins.backends.openai_compat import OpenAICompatBackend
from codequorum.vocabulary.cancel import CancelToken
from codequorum.vocabulary.generation import GenerationParams
from codequorum.vocabulary.request import Request, TaskKind, completion_request
from tests.e2e.servers import llama_server

pytestmark = pytest.mark.e2e

CODE = "def is_even(n: int) -> bool:\n    "
SUFFIX = "\n\n\nprint(is_even(4))\n"


@pytest.fixture(scope="module")
def runtime() -> Runtime:
    return Runtime.create(settings_from_dict({}, source="defaults"))


@pytest.fixture(scope="module")
def server(runtime, installed_models):
    with llama_server(installed_models.verified_path("qwen2.5-coder-0.5b")) as running:
        yield running


@pytest.fixture
def remote(server, runtime) -> OpenAICompatBackend:
    settings = settings_from_dict({"members": {"remote": {
        "backend": "openai", "base_url": server.base_url, "model": "qwen2.5-coder-0.5b", "fim": "qwen",
    }}}, source="test")
    return OpenAICompatBackend(settings.members["remote"], runtime)


def fim_prompt():
    return build_prompt(completion_request(CODE + SUFFIX, len(CODE), language="python"), "qwen")


async def test_fim_through_the_server_equals_llama_cpp_in_process(remote, runtime):
    prompt = fim_prompt()
    params = GenerationParams(max_tokens=12, stop=prompt.stop)
    [served] = await remote.generate(prompt, params, CancelToken())
    local = LlamaCppBackend(runtime.settings.members["qwen-small"], runtime)
    try:
        [in_process] = await local.generate(prompt, params, CancelToken())
    finally:
        await local.aclose()
    assert "% 2" in served.text and "<|" not in served.text  # FIM tokens were parsed as special
    assert served.text == in_process.text and served.tokens == in_process.tokens
    # The server evaluates the prompt in one batch, the in-process backend in chunks of 32
    # tokens: the sums run in another order, which moves the last digits (by about 1.5e-3 on
    # this machine's CPU); a wrong token or position would move it by far more.
    assert served.mean_logprob == pytest.approx(in_process.mean_logprob, abs=5e-3)


async def test_chat_samples_and_stop_strings(remote):
    request = Request(TaskKind.GENERATE, language="python", instruction="Write is_even(n) in Python.")
    samples = await remote.generate(
        build_prompt(request, None), GenerationParams(max_tokens=8, temperature=0.8, n=2, seed=3),
        CancelToken(),
    )
    assert len(samples) == 2 and all(s.text.strip() and s.tokens > 0 for s in samples)
    prompt = fim_prompt()
    [stopped] = await remote.generate(prompt, GenerationParams(max_tokens=16, stop=("%",)), CancelToken())
    assert "%" not in stopped.text and stopped.text.strip() and stopped.finish_reason == "stop"


async def test_cancelling_mid_stream_returns_what_had_arrived(remote):
    cancel = CancelToken()

    def cancel_once_text_arrives(text: str) -> None:
        if len(text) > 8:
            cancel.cancel()

    text = "NUMBERS = [\n" + "".join(f"    {i},\n" for i in range(1, 6))
    prompt = build_prompt(completion_request(text, len(text), language="python"), "qwen")
    params = GenerationParams(max_tokens=300, stop_at=cancel_once_text_arrives)
    [sample] = await remote.generate(prompt, params, cancel)
    assert sample.finish_reason == "cancelled" and 0 < sample.tokens < 40
