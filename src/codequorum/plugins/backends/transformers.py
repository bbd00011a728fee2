"""Hugging Face transformers (torch) in process: a model directory or a GGUF file.

`path` is a model directory or a `.gguf` file; `model` is a Hugging Face id (from the local
cache: the hub may be unreachable) or an embedded model id, whose GGUF is SHA-256 checked
first. transformers dequantizes a GGUF to float32 with a pure-Python reader: SmolLM2-135M
loads in about 25 s on 2 cores and Qwen2.5-Coder-0.5B in about 40 s, and decoding is
several times slower than llama.cpp; for GGUF files on a CPU the llama-cpp backend is the
better choice, this one is for model directories and GPUs. `options`: `device` ("cpu",
"cuda", …; default: cuda when available), `dtype` (default float32 on CPU, else auto),
`merge_system = true` for models whose chat template refuses a system message.

Generation stops on the model's end tokens (its eos, plus the end-of-turn markers llama.cpp
also treats as end of generation, plus any stop string that is one special token), on stop
strings and on the request's `stop_at` rule, checked after every token.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from codequorum.config import MemberConfig
from codequorum.models.catalog import CATALOG
from codequorum.plugins.backends._chat import chat_messages
from codequorum.plugins.backends._stopping import stop_offset
from codequorum.plugins.backends._threads import queue_priority, run_local
from codequorum.vocabulary.cancel import CancelToken
from codequorum.vocabulary.errors import MemberError
from codequorum.vocabulary.generation import Generation, GenerationParams, Prompt

if TYPE_CHECKING:
    from codequorum.core.runtime import Runtime

INSTALL_HINT = "pip install 'codequorum[transformers]' (torch 2.13.0, transformers, gguf, accelerate)"
END_MARKERS = ("<|im_end|>", "<|endoftext|>", "<|eot_id|>", "<|end_of_text|>", "<end_of_turn>",
               "<|end|>", "<|EOT|>", "</s>")


@dataclass
class _Loaded:
    model: Any
    tokenizer: Any
    special_ids: dict[str, int]  # special and added tokens: text -> id
    end_ids: frozenset[int]  # the model's own end tokens
    device: str


class TransformersBackend:
    def __init__(self, member: MemberConfig, runtime: Runtime) -> None:
        self.member = member
        self.runtime = runtime
        self._gguf = _is_gguf(member)
        self._torch, self._transformers = _import_runtime(member.name, self._gguf)
        self._loaded: _Loaded | None = None
        self._lock = threading.Lock()  # one generation per model at a time
        self.load_seconds: float | None = None

    @property
    def supports_fim(self) -> bool:
        return self.member.fim is not None

    async def generate(
        self, prompt: Prompt, params: GenerationParams, cancel: CancelToken
    ) -> list[Generation]:
        return await run_local(self.runtime.scheduler, queue_priority(params, self.member),
                               lambda: self._generate(prompt, params, cancel), cancel)

    async def aclose(self) -> None:
        with self._lock:
            self._loaded = None

    def load(self) -> _Loaded:
        """The loaded model and tokenizer (loading them on first use)."""
        if self._loaded is None:
            started = time.monotonic()
            self._loaded = self._load()
            self.load_seconds = time.monotonic() - started
        return self._loaded

    def _load(self) -> _Loaded:
        source, extra = self._source()
        device = self.member.options.get("device") or ("cuda" if self._torch.cuda.is_available() else "cpu")
        dtype = self.member.options.get("dtype") or ("float32" if device == "cpu" else "auto")
        auto = self._transformers
        try:
            tokenizer = auto.AutoTokenizer.from_pretrained(source, **extra)
            model = auto.AutoModelForCausalLM.from_pretrained(source, **extra, **{_dtype_key(auto): dtype})
        except (OSError, ValueError, RuntimeError) as error:
            message = f"member {self.member.name}: transformers could not load {source}: {error}"
            raise MemberError(message) from error
        model.to(device).eval()
        if self.member.n_threads:
            self._torch.set_num_threads(self.member.n_threads)
        special = {text: tokenizer.convert_tokens_to_ids(text) for text in tokenizer.all_special_tokens}
        special |= dict(tokenizer.added_tokens_encoder)
        own = {*_ids(model.generation_config.eos_token_id), *_ids(tokenizer.eos_token_id)}
        own |= {special[marker] for marker in END_MARKERS if marker in special}
        return _Loaded(model, tokenizer, special, frozenset(own), device)

    def _source(self) -> tuple[str, dict[str, str]]:
        """What `from_pretrained` gets: a directory or hub id, plus `gguf_file` for a GGUF."""
        path = self.member.path
        if path is None and self.member.model in CATALOG:
            path = self.runtime.models.verified_path(self.member.model)
        if path is None:
            return str(self.member.model), {}
        if not path.exists():
            raise MemberError(f"member {self.member.name}: {path} does not exist")
        if path.is_file():
            return str(path.parent), {"gguf_file": path.name}
        return str(path), {}

    def _generate(self, prompt: Prompt, params: GenerationParams, cancel: CancelToken) -> list[Generation]:
        with self._lock:
            loaded = self.load()
            inputs = self._encode(loaded, prompt)
            end_ids = loaded.end_ids | {loaded.special_ids[s] for s in params.stop if s in loaded.special_ids}
            samples = []
            for index in range(params.n):
                if cancel.cancelled:
                    break
                self._torch.manual_seed(params.seed + index)
                samples.append(self._sample(loaded, inputs, params, end_ids, cancel))
            return samples

    def _encode(self, loaded: _Loaded, prompt: Prompt) -> Any:
        tokenizer = loaded.tokenizer
        if prompt.kind == "fim":
            encoded = tokenizer(prompt.text, return_tensors="pt", add_special_tokens=False)
        elif not tokenizer.chat_template:
            raise MemberError(f"member {self.member.name}: the model has no chat template; set `fim`")
        else:
            messages = chat_messages(prompt, bool(self.member.options.get("merge_system", False)))
            encoded = tokenizer.apply_chat_template(
                messages, add_generation_prompt=True, return_tensors="pt", return_dict=True
            )
        return encoded.to(loaded.device)

    def _sample(
        self, loaded: _Loaded, inputs: Any, params: GenerationParams, end_ids: frozenset[int],
        cancel: CancelToken,
    ) -> Generation:
        prompt_tokens = int(inputs["input_ids"].shape[1])
        watch = _StopWatch(loaded.tokenizer, prompt_tokens, params, cancel)
        sampling: dict[str, Any] = {"do_sample": False}
        if params.temperature > 0:
            sampling = {"do_sample": True, "temperature": params.temperature, "top_p": params.top_p}
        started = time.monotonic()
        with self._torch.inference_mode():
            out = loaded.model.generate(
                **inputs, max_new_tokens=params.max_tokens, eos_token_id=sorted(end_ids),
                pad_token_id=min(end_ids), stopping_criteria=[watch], output_logits=True,
                return_dict_in_generate=True, **sampling,
            )
        tokens = out.sequences[0, prompt_tokens:].tolist()
        ended = bool(tokens) and tokens[-1] in end_ids
        kept = tokens[:-1] if ended else tokens
        text = loaded.tokenizer.decode(kept, skip_special_tokens=False)
        cut = stop_offset(text, params)
        finish = "cancelled" if cancel.cancelled else "stop" if ended or cut is not None else "length"
        return Generation(
            text=text[:cut] if cut is not None else text,
            tokens=len(kept),
            prompt_tokens=prompt_tokens,
            seconds=time.monotonic() - started,
            mean_logprob=self._mean_logprob(out.logits, kept),
            finish_reason=finish,
        )

    def _mean_logprob(self, logits: tuple[Any, ...], tokens: list[int]) -> float | None:
        """Mean log-probability of the kept tokens under the raw (unwarped) distributions."""
        if not tokens:
            return None
        torch = self._torch
        steps = torch.stack([step[0] for step in logits[: len(tokens)]]).float()
        chosen = torch.log_softmax(steps, dim=-1)[torch.arange(len(tokens)), torch.tensor(tokens)]
        return float(chosen.mean())


class _StopWatch:
    """A stopping criterion: true once a stop string or `stop_at` matches, or on cancel."""

    def __init__(
        self, tokenizer: Any, prompt_tokens: int, params: GenerationParams, cancel: CancelToken
    ) -> None:
        self.tokenizer, self.prompt_tokens = tokenizer, prompt_tokens
        self.params, self.cancel = params, cancel

    def __call__(self, input_ids: Any, scores: Any, **kwargs: Any) -> Any:
        text = self.tokenizer.decode(input_ids[0, self.prompt_tokens:], skip_special_tokens=False)
        done = self.cancel.cancelled or stop_offset(text, self.params) is not None
        return input_ids.new_full((input_ids.shape[0],), done, dtype=bool)


def _ids(value: int | list[int] | None) -> list[int]:
    if value is None:
        return []
    return [value] if isinstance(value, int) else list(value)


def _is_gguf(member: MemberConfig) -> bool:
    if member.path is not None:
        return Path(member.path).suffix == ".gguf"
    return member.model in CATALOG


def _dtype_key(transformers: Any) -> str:
    """transformers 4.56 renamed `torch_dtype` to `dtype` (the old name warns since)."""
    major, minor = (int(part) for part in transformers.__version__.split(".")[:2])
    return "dtype" if (major, minor) >= (4, 56) else "torch_dtype"


def _import_runtime(member_name: str, gguf: bool) -> tuple[Any, Any]:
    try:
        if gguf:
            import gguf as _gguf  # noqa: F401 - transformers needs it to read GGUF files
        import transformers
        import torch
    except ImportError as error:
        raise MemberError(
            f"member {member_name} uses the transformers backend, but {error.name} is not "
            f"installed: {INSTALL_HINT}"
        ) from error
    return torch, transformers
