"""The llama.cpp backend on the real Qwen2.5-Coder-0.5B and SmolLM2-135M files."""

from __future__ import annotations

import asyncio

import pytest

from codequorum.config import settings_from_dict
from codequorum.core.prompts import build_prompt
from codequorum.core.runtime import Runtime
from codequorum.plugins.backends.llama_cpp import LlamaCppBackend
from codequorum.vocabulary.cancel import CancelToken
from codequorum.vocabulary.errors import MemberError
from codequorum.vocabulary.generation import GenerationParams
from codequorum.vocabulary.request import Request, TaskKind, completion_request

pytestmark = pytest.mark.e2e

CODE = "def is_even(n: int) -> bool:\n    "
SUFFIX = "\n\n\nprint(is_even(4))\n"


@pytest.fixture(scope="module")
def runtime() -> Runtime:
    return Runtime.create(settings_from_dict({}, source="defaults"))


@pytest.fixture(scope="module")
def qwen_small(runtime, installed_models) -> LlamaCppBackend:
    return LlamaCppBackend(runtime.settings.members["qwen-small"], runtime)


@pytest.fixture(scope="module")
def smollm2(runtime, installed_models) -> LlamaCppBackend:
    return LlamaCppBackend(runtime.settings.members["smollm2"], runtime)


def long_prompt():
    """A prompt that the model continues for hundreds of tokens (a list being counted out)."""
    text = "NUMBERS = [\n" + "".join(f"    {i},\n" for i in range(1, 6))
    return build_prompt(completion_request(text, len(text), language="python"), "qwen")


def fim_prompt():
    return build_prompt(completion_request(CODE + SUFFIX, len(CODE), language="python"), "qwen")


async def test_fim_generation_with_logprobs_timing_and_tokens(qwen_small):
    prompt = fim_prompt()
    [sample] = await qwen_small.generate(prompt, GenerationParams(max_tokens=24, stop=prompt.stop), CancelToken())
    assert "n % 2" in sample.text or "n%2" in sample.text
    assert 0 < sample.tokens <= 24 and sample.prompt_tokens > 10
    assert sample.mean_logprob is not None and sample.mean_logprob < 0
    assert sample.seconds > 0
    assert "<|" not in sample.text  # special tokens are stops, never shown


async def test_model_is_loaded_lazily_and_once(runtime, installed_models):
    backend = LlamaCppBackend(runtime.settings.members["smollm2"], runtime)
    assert backend.load_seconds is None
    first = backend.load()
    assert backend.load() is first and backend.load_seconds is not None


async def test_n_samples_at_temperature_differ_by_seed(qwen_small):
    prompt = fim_prompt()
    params = GenerationParams(max_tokens=16, temperature=1.2, n=3, seed=7, stop=prompt.stop)
    samples = await qwen_small.generate(prompt, params, CancelToken())
    assert len(samples) == 3
    assert len({s.text for s in samples}) >= 2


async def test_stop_sequences_end_the_sample(qwen_small):
    prompt = fim_prompt()
    params = GenerationParams(max_tokens=40, stop=prompt.stop + ("%",))
    [sample] = await qwen_small.generate(prompt, params, CancelToken())
    assert "%" not in sample.text and sample.finish_reason == "stop"


async def test_chat_prompt_on_the_chat_only_model(smollm2):
    request = Request(TaskKind.GENERATE, language="python", instruction="Write hello world in Python.")
    prompt = build_prompt(request, None)
    [sample] = await smollm2.generate(prompt, GenerationParams(max_tokens=32), CancelToken())
    assert sample.text.strip() and sample.tokens > 0


async def test_cancellation_stops_between_tokens(qwen_small):
    cancel = CancelToken()

    def cancel_once_text_arrives(text: str) -> None:
        if len(text) > 8:  # cancelled from outside while tokens are flowing
            cancel.cancel()

    params = GenerationParams(max_tokens=400, stop_at=cancel_once_text_arrives)
    [sample] = await qwen_small.generate(long_prompt(), params, cancel)
    assert sample.finish_reason == "cancelled" and 0 < sample.tokens < 50


async def test_cancelling_the_awaiting_task_stops_the_model_and_frees_it(qwen_small):
    prompt = long_prompt()
    task = asyncio.create_task(qwen_small.generate(prompt, GenerationParams(max_tokens=400), CancelToken()))
    await asyncio.sleep(0.8)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    # the model is free again at once: a short request goes through
    [sample] = await qwen_small.generate(prompt, GenerationParams(max_tokens=4), CancelToken())
    assert sample.tokens <= 4


async def test_a_prompt_longer_than_the_context_is_a_clear_error(runtime, installed_models):
    member = runtime.settings.members["smollm2"].model_copy(update={"n_ctx": 256})
    backend = LlamaCppBackend(member, runtime)
    request = Request(TaskKind.GENERATE, instruction="word " * 2000)
    with pytest.raises(Exception, match="does not fit its context of 256 tokens"):
        await backend.generate(build_prompt(request, None), GenerationParams(max_tokens=8), CancelToken())


def drafted(runtime, name: str, draft: str) -> LlamaCppBackend:
    return LlamaCppBackend(runtime.settings.members[name].model_copy(update={"draft": draft}), runtime)


async def test_prompt_lookup_decoding_gives_the_same_greedy_answer_in_fewer_steps(runtime, qwen_small):
    # a list counted out: its lines repeat, so the guesses are often right; and the model is sure
    # of every token, so no near-tie can round the other way in a batched decode
    prompt = long_prompt()
    params = GenerationParams(max_tokens=30, stop=prompt.stop)
    [plain] = await qwen_small.generate(prompt, params, CancelToken())
    [looked_up] = await drafted(runtime, "qwen-small", "prompt-lookup").generate(prompt, params, CancelToken())
    assert looked_up.text == plain.text and looked_up.tokens == plain.tokens
    assert looked_up.accepted_draft_tokens > 0 and plain.drafted_tokens == 0
    # the time to first token counts the prompt's evaluation; `seconds` only the decoding
    assert looked_up.first_token_seconds is not None and looked_up.first_token_seconds > 0


async def test_the_small_qwen_drafts_for_the_large_one_and_the_answer_is_the_large_ones(runtime, installed_models):
    prompt = fim_prompt()
    params = GenerationParams(max_tokens=24, stop=prompt.stop)
    [plain] = await LlamaCppBackend(runtime.settings.members["qwen-large"], runtime).generate(
        prompt, params, CancelToken())
    backend = drafted(runtime, "qwen-large", "qwen-small")
    [checked] = await backend.generate(prompt, params, CancelToken())
    await backend.aclose()
    assert checked.text == plain.text
    assert checked.drafted_tokens > 0 and checked.accepted_draft_tokens > 0


async def test_a_draft_member_with_another_tokenizer_is_refused_by_name(runtime, installed_models):
    backend = drafted(runtime, "qwen-small", "smollm2")
    with pytest.raises(MemberError, match="draft member smollm2 has another tokenizer"):
        await backend.generate(fim_prompt(), GenerationParams(max_tokens=4), CancelToken())


async def test_the_kv_cache_holds_the_shared_prompt_prefix_of_the_next_request(qwen_small):
    first = build_prompt(completion_request(CODE + SUFFIX, len(CODE), language="python"), "qwen")
    later = build_prompt(completion_request(CODE + SUFFIX, len(CODE) - 4, language="python"), "qwen")
    await qwen_small.generate(first, GenerationParams(max_tokens=4), CancelToken())
    [again] = await qwen_small.generate(later, GenerationParams(max_tokens=4), CancelToken())
    assert 0 < again.cached_prompt_tokens < again.prompt_tokens


async def test_the_model_scores_its_own_greedy_snippet_as_it_generated_it_and_nonsense_far_lower(qwen_small):
    prompt = fim_prompt()
    params = GenerationParams(max_tokens=24, stop=prompt.stop)
    [sample] = await qwen_small.generate(prompt, params, CancelToken())
    assert sample.finish_reason == "stop" and sample.text.strip()
    own, nonsense = await qwen_small.score(prompt, [sample.text, "import banana )( while elif"], CancelToken())
    assert own.tokens == sample.tokens
    # Batched teacher forcing and one-token decoding round differently: 2e-3 apart on one CPU
    # build when another prompt was in the cache. A snippet scored one token off, or another
    # text, is more than 0.1 away.
    assert own.mean_logprob == pytest.approx(sample.mean_logprob, abs=5e-3)
    assert own.end_logprob is not None and own.end_logprob > -3  # the model did stop there
    assert nonsense.mean_logprob < own.mean_logprob - 3
    # the KV cache is left holding the prompt: the same request again reuses it, same answer
    [again] = await qwen_small.generate(prompt, params, CancelToken())
    assert again.text == sample.text and again.cached_prompt_tokens == again.prompt_tokens - 1
