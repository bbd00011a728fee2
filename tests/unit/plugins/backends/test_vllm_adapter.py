"""The vLLM backend's own logic, against a stand-in for the part of vLLM's API it uses
(`AsyncEngineArgs`, `AsyncLLMEngine.from_engine_args`, `generate` streaming cumulative
`RequestOutput`s, closing the stream to abort, `get_tokenizer`, `SamplingParams`).

vLLM itself needs a CUDA GPU, so it cannot run here; this pins down what we do with it.
"""

import sys
import types
from dataclasses import dataclass, field

import pytest

from codequorum.config import settings_from_dict
from codequorum.plugins.backends.vllm import VllmBackend
from codequorum.vocabulary.cancel import CancelToken
from codequorum.vocabulary.generation import ChatMessage, GenerationParams, Prompt


@dataclass
class Output:
    text: str
    token_ids: list[int]
    cumulative_logprob: float | None
    finish_reason: str | None = None


@dataclass
class Update:
    outputs: list[Output]
    prompt_token_ids: list[int]
    finished: bool


@dataclass
class FakeEngine:
    args: dict
    words: tuple[str, ...] = ("x", " =", " 1", "\n", "y", " =", " 2")
    requests: list = field(default_factory=list)
    aborted: list = field(default_factory=list)

    def get_tokenizer(self):
        def render(messages, tokenize, add_generation_prompt):
            return "".join(f"<{m['role']}>{m['content']}" for m in messages) + "<assistant>"

        return types.SimpleNamespace(apply_chat_template=render)

    async def generate(self, text, sampling, request_id):
        self.requests.append((text, sampling))
        limit = min(sampling.max_tokens, len(self.words))
        try:
            for count in range(1, limit + 1):
                finished = count == limit
                output = Output("".join(self.words[:count]), list(range(count)), -0.5 * count,
                                "length" if finished else None)
                yield Update([output], [1, 2, 3], finished)
        except GeneratorExit:
            self.aborted.append(request_id)
            raise

    def shutdown(self):
        self.args["shut down"] = True


@pytest.fixture
def fake_vllm(monkeypatch):
    module = types.ModuleType("vllm")
    module.engines = []
    module.AsyncEngineArgs = lambda **kwargs: kwargs
    module.SamplingParams = lambda **kwargs: types.SimpleNamespace(**kwargs)

    def from_engine_args(args):
        module.engines.append(FakeEngine(args))
        return module.engines[-1]

    module.AsyncLLMEngine = types.SimpleNamespace(from_engine_args=from_engine_args)
    monkeypatch.setitem(sys.modules, "vllm", module)
    return module


def backend(**fields) -> VllmBackend:
    values = {"backend": "vllm", "model": "Qwen/Qwen2.5-Coder-7B-Instruct", "fim": "qwen"} | fields
    settings = settings_from_dict({"include_default_members": False, "members": {"gpu": values}}, source="t")
    return VllmBackend(settings.members["gpu"], runtime=None)


async def test_engine_is_built_once_from_the_member_and_its_options(fake_vllm):
    b = backend(n_ctx=8192, options={"tensor_parallel_size": 2, "merge_system": True})
    for _ in range(2):
        await b.generate(Prompt("fim", text="<|fim_prefix|>"), GenerationParams(max_tokens=2), CancelToken())
    [engine] = fake_vllm.engines
    assert engine.args == {"model": "Qwen/Qwen2.5-Coder-7B-Instruct", "max_model_len": 8192,
                           "tensor_parallel_size": 2}
    await b.aclose()
    assert engine.args["shut down"] is True


async def test_a_sample_carries_text_tokens_and_mean_logprob(fake_vllm):
    params = GenerationParams(max_tokens=3)
    [sample] = await backend().generate(Prompt("fim", text="p"), params, CancelToken())
    assert (sample.text, sample.tokens, sample.prompt_tokens) == ("x = 1", 3, 3)
    assert sample.mean_logprob == -0.5 and sample.finish_reason == "length"
    text, sampling = fake_vllm.engines[0].requests[0]
    assert text == "p" and sampling.logprobs == 0 and sampling.n == 1


async def test_stop_at_cuts_the_text_and_aborts_the_request(fake_vllm):
    params = GenerationParams(max_tokens=7, stop_at=lambda text: text.find("\n") if "\n" in text else None)
    [sample] = await backend().generate(Prompt("fim", text="p"), params, CancelToken())
    assert sample.text == "x = 1" and sample.finish_reason == "stop"
    assert len(fake_vllm.engines[0].aborted) == 1


async def test_n_samples_are_requests_with_consecutive_seeds(fake_vllm):
    samples = await backend().generate(Prompt("fim", text="p"), GenerationParams(max_tokens=2, n=3, seed=5),
                                       CancelToken())
    assert len(samples) == 3
    assert sorted(s.seed for _, s in fake_vllm.engines[0].requests) == [5, 6, 7]


async def test_chat_prompts_are_rendered_with_the_model_template(fake_vllm):
    prompt = Prompt("chat", messages=(ChatMessage("system", "be brief"), ChatMessage("user", "add")))
    await backend().generate(prompt, GenerationParams(max_tokens=1), CancelToken())
    assert fake_vllm.engines[0].requests[0][0] == "<system>be brief<user>add<assistant>"
