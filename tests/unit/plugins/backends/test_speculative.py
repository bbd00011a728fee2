"""Speculative greedy decoding gives the model's own greedy answer, in fewer decode steps when the
drafter guesses right, and leaves the KV cache holding a real prefix."""

from collections.abc import Sequence

import numpy as np
import pytest

from codequorum.plugins.backends.speculative import DraftCounts, PromptLookup, speculate
from codequorum.vocabulary.cancel import CancelToken

VOCAB = 16


class ScriptedModel:
    """A 'model' whose greedy next token is a fixed function of the tokens before it; it keeps
    the tokens it holds the way llama.cpp's KV cache does."""

    def __init__(self, context: Sequence[int]) -> None:
        self.held = list(context[:-1])  # prefilled: all but the last prompt token
        self.decodes = 0

    @staticmethod
    def next_token(tokens: Sequence[int]) -> int:
        return (sum(tokens[-2:]) * 7 + len(tokens)) % VOCAB

    def decode(self, tokens: Sequence[int]) -> np.ndarray:
        self.decodes += 1
        rows = np.full((len(tokens), VOCAB), -20.0)
        for index, token in enumerate(tokens):
            self.held.append(token)
            rows[index, self.next_token(self.held)] = -0.1
        return rows

    def rewind(self, count: int) -> None:
        del self.held[len(self.held) - count:]


class Oracle:
    """Guesses exactly what the model will say, `right` tokens, then a wrong one."""

    def __init__(self, right: int = 99) -> None:
        self.right = right

    def propose(self, context: Sequence[int], count: int) -> list[int]:
        seen, guesses = list(context), []
        for index in range(count):
            token = ScriptedModel.next_token(seen)
            guesses.append(token if index < self.right else (token + 1) % VOCAB)
            seen.append(guesses[-1])
        return guesses


class Silent:
    def propose(self, context: Sequence[int], count: int) -> list[int]:
        return []


def greedy(context: list[int], limit: int) -> list[int]:
    tokens = list(context)
    for _ in range(limit):
        tokens.append(ScriptedModel.next_token(tokens))
    return tokens[len(context):]


CONTEXT = [3, 1, 4, 1, 5, 9, 2, 6]


def run(drafter, limit=20, draft_tokens=4, cancel=None):
    model, counts = ScriptedModel(CONTEXT), DraftCounts()
    out = [token for token, _ in speculate(model, drafter, CONTEXT, limit, draft_tokens,
                                           cancel or CancelToken(), counts)]
    return out, model, counts


@pytest.mark.parametrize("drafter", [Oracle(), Oracle(right=1), Oracle(right=0), Silent(), PromptLookup()],
                         ids=["always-right", "one-right", "always-wrong", "no-guesses", "prompt-lookup"])
def test_the_answer_is_the_models_own_greedy_answer_whatever_the_guesses(drafter):
    out, model, _ = run(drafter)
    assert out == greedy(CONTEXT, 20)
    # what the cache holds is the context and the answer but its last token (not decoded yet)
    assert model.held == (CONTEXT + out)[:len(model.held)]


def test_right_guesses_save_decode_steps_and_are_counted():
    out, model, counts = run(Oracle(), limit=20, draft_tokens=4)
    assert len(out) == 20 and model.decodes == 4  # five tokens per step: four guesses and one more
    assert counts.drafted == counts.accepted == 16 and counts.steps == 4


def test_wrong_guesses_cost_no_extra_steps_and_none_is_kept():
    out, model, counts = run(Oracle(right=0), limit=10)
    assert model.decodes == 10 and counts.accepted == 0 and counts.drafted > 0


def test_the_guesses_never_run_past_the_limit():
    out, model, counts = run(Oracle(), limit=7, draft_tokens=5)
    assert len(out) == 7 and counts.drafted <= 6


def test_a_cancel_stops_between_steps():
    cancel = CancelToken()
    tokens = speculate(ScriptedModel(CONTEXT), Oracle(right=0), CONTEXT, 50, 4, cancel, DraftCounts())
    taken = [next(tokens), next(tokens)]
    cancel.cancel()
    assert len(taken + list(tokens)) == 2


def test_prompt_lookup_guesses_what_followed_the_last_ngram_the_last_time():
    lookup = PromptLookup(longest=3, shortest=1)
    context = [1, 2, 3, 4, 5, 9, 1, 2, 3, 7, 8, 0, 2, 3]
    assert lookup.propose(context, 3) == [7, 8, 0]  # "2 3" last followed by 7 8 0 (not 4 5 9)
    assert lookup.propose([1, 2, 3, 1, 2], 10) == [3, 1, 2]  # the guess may run into the present
    assert lookup.propose([5, 6, 7], 4) == []  # nothing repeats
    assert lookup.propose([4], 4) == []


class Recording(Oracle):
    """An oracle that misses with its first guess on its first call, then is always right."""

    def __init__(self) -> None:
        super().__init__(right=0)
        self.asked: list[int] = []

    def propose(self, context: Sequence[int], count: int) -> list[int]:
        self.asked.append(count)
        guesses = super().propose(context, count)
        self.right = 99
        return guesses


def test_the_number_of_guesses_falls_after_a_miss_and_grows_back_after_full_hits():
    drafter = Recording()
    out, _, _ = run(drafter, limit=40, draft_tokens=8)
    assert out == greedy(CONTEXT, 40)
    assert drafter.asked[:6] == [8, 1, 2, 4, 8, 8]


def test_guesses_kept_in_a_step_the_caller_stops_in_are_counted():
    counts = DraftCounts()
    tokens = speculate(ScriptedModel(CONTEXT), Oracle(), CONTEXT, 20, 8, CancelToken(), counts)
    taken = [next(tokens) for _ in range(4)]  # the caller stops inside the first step (an end token)
    tokens.close()
    assert len(taken) == 4 and counts.accepted == 4 and counts.drafted == 8
