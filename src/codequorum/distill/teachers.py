"""The teachers' distributions over each answer, computed once by llama.cpp and cached.

A teacher is a member's own GGUF, run as it runs when it answers (llama.cpp, the same
quantized weights), over the exact token ids the student trains on. For every answer token
the cache keeps the teacher's top-k tokens with their log-probabilities and the
log-probability of the verified token: one small `.npz` per (teacher file, example), written
whole then renamed, so an interrupted run resumes where it stopped.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from codequorum.distill.encode import EncodedExample
from codequorum.distill.fusion import TokenDistributions
from codequorum.vocabulary.errors import CodequorumError

PROBE = "def add(a, b):\n    return a + b  # <|fim_prefix|> 你好"


@dataclass(frozen=True)
class Teacher:
    name: str  # the member's name
    path: Path  # its GGUF
    fingerprint: str  # the file's SHA-256 (or a stand-in that changes with the file)


class TeacherCache:
    def __init__(self, directory: Path, teacher: Teacher, top_k: int) -> None:
        self.directory = directory / f"{teacher.name}-{teacher.fingerprint[:16]}-top{top_k}"
        self.teacher, self.top_k = teacher, top_k

    def path_for(self, example: EncodedExample) -> Path:
        return self.directory / f"{example.digest}.npz"

    def load(self, example: EncodedExample) -> TokenDistributions | None:
        path = self.path_for(example)
        if not path.is_file():
            return None
        try:
            with np.load(path) as data:
                return TokenDistributions(data["indices"], data["logprobs"], data["gold_logprobs"])
        except (OSError, ValueError, KeyError):
            return None  # a damaged file: computed again

    def save(self, example: EncodedExample, distributions: TokenDistributions) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        path = self.path_for(example)
        partial = path.with_suffix(".partial.npz")
        np.savez(partial, indices=distributions.indices, logprobs=distributions.logprobs,
                 gold_logprobs=distributions.gold_logprobs)
        os.replace(partial, path)

    def missing(self, examples: Sequence[EncodedExample]) -> list[EncodedExample]:
        return [e for e in examples if not self.path_for(e).is_file()]


def top_k_of(logits: np.ndarray, answer: Sequence[int], top_k: int) -> TokenDistributions:
    """`logits` [n, V]: row i predicts `answer[i]`. Log-softmax over the whole vocabulary."""
    logits = logits.astype(np.float64)
    logprobs = logits - _logsumexp(logits)
    k = min(top_k, logprobs.shape[1])
    top = np.argpartition(-logprobs, k - 1, axis=1)[:, :k]
    order = np.argsort(-np.take_along_axis(logprobs, top, axis=1), axis=1)
    top = np.take_along_axis(top, order, axis=1)
    gold = logprobs[np.arange(len(answer)), np.asarray(answer)]
    return TokenDistributions(top.astype(np.int32), np.take_along_axis(logprobs, top, axis=1).astype(np.float32),
                              gold.astype(np.float32))


def _logsumexp(values: np.ndarray) -> np.ndarray:
    peak = values.max(axis=1, keepdims=True)
    return peak + np.log(np.exp(values - peak).sum(axis=1, keepdims=True))


def fill_cache(cache: TeacherCache, examples: Sequence[EncodedExample], student_tokenizer: Any,
               vocab_size: int, n_threads: int | None, advance: Callable[[], None]) -> int:
    """Compute what the cache lacks with the teacher in llama.cpp; how many were computed."""
    todo = cache.missing(examples)
    if not todo:
        return 0
    llama = _open_llama(cache.teacher, max(len(e.ids) for e in todo), n_threads)
    try:
        _check_same_tokenizer(cache.teacher, llama, student_tokenizer, vocab_size)
        for example in todo:
            cache.save(example, _distributions(llama, example, cache.top_k))
            advance()
    finally:
        llama.close()
    return len(todo)


def _distributions(llama: Any, example: EncodedExample, top_k: int) -> TokenDistributions:
    llama.reset()
    llama.eval(list(example.ids))
    # the logits at position t predict token t + 1: the answer's are those before each of its tokens
    logits = np.asarray(llama.scores[example.answer_start - 1:len(example.ids) - 1])
    return top_k_of(logits, example.answer_ids, top_k)


def _open_llama(teacher: Teacher, longest: int, n_threads: int | None) -> Any:
    try:
        from llama_cpp import Llama
    except ImportError as error:
        raise CodequorumError("the teachers run in llama.cpp: pip install 'codequorum[local]'") from error
    return Llama(model_path=str(teacher.path), n_ctx=max(256, longest + 8), n_batch=512, logits_all=True,
                 n_threads=n_threads, verbose=False)


def _check_same_tokenizer(teacher: Teacher, llama: Any, tokenizer: Any, vocab_size: int) -> None:
    """Fused distributions are only meaningful over one shared vocabulary."""
    ours = tokenizer(PROBE, add_special_tokens=False)["input_ids"]
    theirs = llama.tokenize(PROBE.encode("utf-8"), add_bos=False, special=True)
    if llama.n_vocab() != vocab_size or list(ours) != list(theirs):
        raise CodequorumError(
            f"teacher {teacher.name} does not share the student's tokenizer ({llama.n_vocab()} tokens "
            f"against {vocab_size}): choose teachers of the same family (the Qwen2.5-Coder members)")
