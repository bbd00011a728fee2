import math

import numpy as np
import pytest

from codequorum.plugins.backends.mixing import (
    choose,
    fused_generation,
    mix,
    perplexity,
    perplexity_weights,
    vocabulary_mismatch,
)
from codequorum.vocabulary.cancel import CancelToken
from codequorum.vocabulary.errors import MemberError
from codequorum.vocabulary.generation import GenerationParams, Prompt
from tests.unit.plugins.strategies.fakes import REQUEST, answer, engine, member

# ---- weights and mixture -----------------------------------------------------------------


def test_perplexity_is_the_exponential_of_the_mean_negative_logprob():
    assert perplexity([math.log(0.5), math.log(0.5)]) == pytest.approx(2.0)
    assert perplexity([math.log(0.25), math.log(1.0)]) == pytest.approx(2.0)
    assert perplexity([]) == 1.0


def test_lower_perplexity_gets_the_higher_weight():
    weights = perplexity_weights([2.0, 4.0])
    assert weights == pytest.approx([2 / 3, 1 / 3])  # softmax(−log 2, −log 4) ∝ (1/2, 1/4)
    assert perplexity_weights([3.0, 3.0]) == pytest.approx([0.5, 0.5])


def test_the_weight_temperature_sharpens_or_flattens():
    sharp = perplexity_weights([2.0, 4.0], temperature=0.5)
    flat = perplexity_weights([2.0, 4.0], temperature=10.0)
    assert sharp == pytest.approx([0.8, 0.2])  # ∝ (1/4, 1/16)
    assert 0.5 < flat[0] < 0.52 and flat.sum() == pytest.approx(1.0)


def test_the_mixture_is_the_weighted_average_of_probabilities():
    a = np.log([0.7, 0.2, 0.1])
    b = np.log([0.1, 0.1, 0.8])
    mixed = mix([a, b], np.array([0.75, 0.25]))
    assert np.exp(mixed) == pytest.approx([0.55, 0.175, 0.275])
    assert np.exp(mix([a, b], np.array([1.0, 0.0]))) == pytest.approx([0.7, 0.2, 0.1])


def test_a_token_impossible_for_one_member_keeps_the_others_share():
    a = np.array([0.0, -np.inf])
    b = np.log([0.5, 0.5])
    assert np.exp(mix([a, b], np.array([0.5, 0.5]))) == pytest.approx([0.75, 0.25])


def test_greedy_takes_the_most_likely_token_and_sampling_follows_the_mixture():
    mixture = np.log([0.2, 0.5, 0.3])
    rng = np.random.default_rng(0)
    assert choose(mixture, 0.0, rng) == 1
    draws = [choose(mixture, 1.0, rng) for _ in range(4000)]
    assert np.bincount(draws, minlength=3) / 4000 == pytest.approx([0.2, 0.5, 0.3], abs=0.03)


# ---- vocabularies ------------------------------------------------------------------------

TEXTS = ["<eos>", "a", "b", "c", "\n"]


class FakeStepper:
    """A model over TEXTS whose next-token distribution depends on the tokens so far."""

    def __init__(self, name, next_probs, texts=TEXTS, prompt_logprobs=(-1.0,), n_ctx=100):
        self.name = name
        self._next = next_probs  # history (tuple of token ids) -> probabilities
        self._texts = texts
        self._prompt = list(prompt_logprobs)
        self._ctx = n_ctx
        self.history: list[int] = []
        self.pushed: list[int] = []

    @property
    def n_vocab(self):
        return len(self._texts)

    @property
    def n_ctx(self):
        return self._ctx

    def token_text(self, token):
        return self._texts[token]

    def is_end(self, token):
        return token == 0

    def tokenize(self, prompt):
        return [1, 2, 3]

    def detokenize(self, tokens):
        return "".join(self._texts[t] for t in tokens)

    def start(self, tokens, cancel, scored=0):
        return self._prompt[-scored:] if scored else []

    def logprobs(self):
        with np.errstate(divide="ignore"):
            return np.log(np.asarray(self._next(tuple(self.pushed)), dtype=np.float64))

    def push(self, token):
        self.pushed.append(token)


def test_vocabularies_must_match_in_size_and_token_texts():
    same = [FakeStepper("x", None), FakeStepper("y", None)]
    assert vocabulary_mismatch(same) is None
    smaller = FakeStepper("z", None, texts=TEXTS[:4])
    assert "x has 5 tokens and z 4: their vocabularies differ" in vocabulary_mismatch([same[0], smaller])
    renamed = FakeStepper("w", None, texts=["<eos>", "a", "B", "c", "\n"])
    assert "x and w have different token texts (e.g. token 2: 'b' vs 'B')" in vocabulary_mismatch([same[0], renamed])


# ---- the fused decode loop -----------------------------------------------------------------


def script(*steps):
    """Probabilities per step; after the last, always the end token."""
    def next_probs(history):
        return steps[len(history)] if len(history) < len(steps) else [1, 0, 0, 0, 0]
    return next_probs


def decode(steppers, **params):
    notes = []
    generation = fused_generation(steppers, Prompt(kind="fim", text="x"), GenerationParams(**params),
                                  CancelToken(), weight_temperature=1.0, scored=2, note=notes.append)
    return generation, notes


def test_the_less_perplexed_member_outvotes_the_other():
    confident = FakeStepper("big", script([0, 0.6, 0.4, 0, 0], [0, 0, 0.6, 0.4, 0]), prompt_logprobs=[-0.1, -0.1])
    unsure = FakeStepper("small", script([0, 0.2, 0.8, 0, 0], [0, 0, 0.2, 0.8, 0]), prompt_logprobs=[-2.0, -2.0])
    generation, notes = decode([confident, unsure], max_tokens=10)
    assert generation.text == "ab" and generation.tokens == 2 and generation.finish_reason == "stop"
    assert confident.pushed == unsure.pushed == [1, 2]  # every member is fed the chosen token
    assert notes[0].startswith("weights from prompt perplexity: big PPL 1.11 → 0.87, small PPL 7.39 → 0.13")
    # alone, the unsure member would have said "bc"
    alone, _ = decode([FakeStepper("small", script([0, 0.2, 0.8, 0, 0], [0, 0, 0.2, 0.8, 0]))], max_tokens=10)
    assert alone.text == "bc"


def test_generation_stops_at_the_token_cap_stop_strings_and_the_early_stop_rule():
    forever = script(*[[0, 1, 0, 0, 0]] * 50)
    capped, _ = decode([FakeStepper("x", forever), FakeStepper("y", forever)], max_tokens=3)
    assert capped.text == "aaa" and capped.finish_reason == "length"
    lines = script([0, 1, 0, 0, 0], [0, 0, 0, 0, 1], [0, 0, 1, 0, 0], [0, 0, 0, 1, 0])
    stopped, _ = decode([FakeStepper("x", lines), FakeStepper("y", lines)], max_tokens=10, stop=("\nb",))
    assert stopped.text == "a" and stopped.finish_reason == "stop"
    early, _ = decode([FakeStepper("x", lines), FakeStepper("y", lines)], max_tokens=10,
                      stop_at=lambda text: 1 if "\n" in text else None)
    assert early.text == "a"


def test_a_cancelled_token_stops_between_tokens():
    cancel = CancelToken()
    forever = script(*[[0, 1, 0, 0, 0]] * 50)

    class Cancelling(FakeStepper):
        def push(self, token):
            super().push(token)
            if len(self.pushed) == 2:
                cancel.cancel()

    generation = fused_generation([Cancelling("x", forever), FakeStepper("y", forever)],
                                  Prompt(kind="fim", text="x"), GenerationParams(max_tokens=10), cancel,
                                  1.0, 0, lambda note: None)
    assert generation.finish_reason == "cancelled" and generation.text == "aa"


def test_mismatched_vocabularies_are_refused_by_name():
    with pytest.raises(MemberError, match="logit-fusion cannot mix x, z: x has 5 tokens and z 4"):
        decode([FakeStepper("x", None), FakeStepper("z", None, texts=TEXTS[:4])], max_tokens=4)


# ---- the strategy refuses members it cannot mix -------------------------------------------


async def test_members_that_are_not_local_llama_cpp_ones_are_refused_by_name():
    eng = engine({"a": member([answer(1)]), "b": member([answer(2)])})
    named = await eng.run(REQUEST, strategy="logit-fusion", options={"members": ["a", "b"]})
    assert named.candidates == []
    assert any("logit-fusion mixes local llama.cpp members only; not: a, b" in e for e in named.trace.events)
    default = await eng.run(REQUEST, strategy="logit-fusion")
    assert any("needs two local llama.cpp members" in e for e in default.trace.events)
