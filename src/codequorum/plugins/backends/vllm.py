"""vLLM in process (`AsyncLLMEngine`): a GPU machine runs a member without an HTTP hop.

vLLM is an optional, CUDA-only extra; this module imports it only when a member uses it,
so the package installs and runs without it. A team usually runs `vllm serve` instead and
points an `openai` member at it (docs/deployment.md); this backend is for one process that
owns its GPUs. `options` go to vLLM's `AsyncEngineArgs` (e.g. `tensor_parallel_size = 2`,
`gpu_memory_utilization = 0.85`, `quantization = "awq"`), except `merge_system = true`, for
models whose chat template refuses a system message.

Each of the n samples is its own vLLM request with seed `seed + i`; they are submitted
together, which vLLM batches. Closing a request's output stream aborts it in vLLM, so
cancellation frees the GPU at once.
"""

from __future__ import annotations

import asyncio
import inspect
import time
import uuid
from typing import TYPE_CHECKING, Any

from codequorum.config import MemberConfig
from codequorum.plugins.backends._chat import chat_messages
from codequorum.plugins.backends._stopping import stop_offset
from codequorum.vocabulary.cancel import CancelToken
from codequorum.vocabulary.errors import MemberError
from codequorum.vocabulary.generation import Generation, GenerationParams, Prompt

if TYPE_CHECKING:
    from codequorum.core.runtime import Runtime

OWN_OPTIONS = frozenset({"merge_system"})  # the other options are vLLM's engine arguments
INSTALL_HINT = (
    "pip install 'codequorum[vllm]' on a machine with an NVIDIA GPU (vLLM pins its own torch, "
    "so keep it apart from the `ranker` and `transformers` extras)"
)


class VllmBackend:
    def __init__(self, member: MemberConfig, runtime: Runtime) -> None:
        self.member = member
        self._vllm = _import_vllm(member.name)
        self._engine: Any = None
        self._loading = asyncio.Lock()

    @property
    def supports_fim(self) -> bool:
        return self.member.fim is not None

    async def generate(
        self, prompt: Prompt, params: GenerationParams, cancel: CancelToken
    ) -> list[Generation]:
        engine = await self._load()
        text = await self._chat_text(engine, prompt) if prompt.kind == "chat" else prompt.text
        try:
            async with asyncio.TaskGroup() as group:
                tasks = [group.create_task(self._sample(engine, text, params, params.seed + i, cancel))
                         for i in range(params.n)]
        except ExceptionGroup as failures:  # the first failure tells the story
            raise failures.exceptions[0] from None
        return [task.result() for task in tasks]

    async def aclose(self) -> None:
        if self._engine is not None:
            self._engine.shutdown()
            self._engine = None

    async def _load(self) -> Any:
        async with self._loading:
            if self._engine is None:
                # Building the engine loads the weights onto the GPUs: keep the loop responsive.
                self._engine = await asyncio.to_thread(self._build_engine)
        return self._engine

    def _build_engine(self) -> Any:
        model = str(self.member.path or self.member.model)
        engine_options = {k: v for k, v in self.member.options.items() if k not in OWN_OPTIONS}
        options = {"max_model_len": self.member.n_ctx} | engine_options
        args = self._vllm.AsyncEngineArgs(model=model, **options)
        try:
            return self._vllm.AsyncLLMEngine.from_engine_args(args)
        except (OSError, ValueError, RuntimeError) as error:
            raise MemberError(f"member {self.member.name}: vLLM could not load {model}: {error}") from error

    async def _chat_text(self, engine: Any, prompt: Prompt) -> str:
        tokenizer = engine.get_tokenizer()
        if inspect.isawaitable(tokenizer):  # a coroutine before vLLM 0.11
            tokenizer = await tokenizer
        messages = chat_messages(prompt, bool(self.member.options.get("merge_system", False)))
        return str(tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True))

    async def _sample(
        self, engine: Any, text: str, params: GenerationParams, seed: int, cancel: CancelToken
    ) -> Generation:
        sampling = self._vllm.SamplingParams(
            n=1, temperature=params.temperature, top_p=params.top_p, max_tokens=params.max_tokens,
            seed=seed, stop=list(params.stop), logprobs=0,  # 0: the chosen token's logprob only
        )
        started = time.monotonic()
        stream = engine.generate(text, sampling, request_id=uuid.uuid4().hex)
        output, prompt_tokens, finish, cut = None, 0, "length", None
        try:
            async for update in stream:
                output, prompt_tokens = update.outputs[0], len(update.prompt_token_ids or ())
                cut = stop_offset(output.text, params)
                if cancel.cancelled or cut is not None:
                    finish = "cancelled" if cancel.cancelled else "stop"
                    break
                if update.finished:
                    finish = "length" if output.finish_reason == "length" else "stop"
        finally:
            await stream.aclose()  # aborts the request in vLLM if it is still running
        return _generation(output, prompt_tokens, cut, finish, time.monotonic() - started)


def _generation(output: Any, prompt_tokens: int, cut: int | None, finish: str, seconds: float) -> Generation:
    if output is None:
        return Generation("", 0, prompt_tokens, seconds, None, finish)
    tokens = len(output.token_ids)
    logprob = output.cumulative_logprob
    return Generation(
        text=output.text[:cut] if cut is not None else output.text,
        tokens=tokens,
        prompt_tokens=prompt_tokens,
        seconds=seconds,
        mean_logprob=logprob / tokens if logprob is not None and tokens else None,
        finish_reason=finish,
    )


def _import_vllm(member_name: str) -> Any:
    try:
        import vllm
    except ImportError as error:
        raise MemberError(
            f"member {member_name} uses the vllm backend, but vLLM is not installed: {INSTALL_HINT}"
        ) from error
    return vllm
