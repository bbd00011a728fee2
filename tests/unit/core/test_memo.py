from codequorum.core.memo import GenerationMemo
from codequorum.vocabulary.generation import Generation, GenerationParams, Prompt

PROMPT = Prompt("fim", text="<fim_prefix>def f():\n    ")
ANSWER = [Generation("return 1", tokens=3, prompt_tokens=9, seconds=0.4)]


def test_a_greedy_answer_is_given_again_at_no_compute_cost():
    memo = GenerationMemo()
    memo.remember(PROMPT, GenerationParams(max_tokens=24), ANSWER)
    [again] = memo.lookup(PROMPT, GenerationParams(max_tokens=24))
    assert (again.text, again.tokens, again.seconds) == ("return 1", 3, 0.0)


def test_another_prompt_or_limit_is_not_answered():
    memo = GenerationMemo()
    memo.remember(PROMPT, GenerationParams(max_tokens=24), ANSWER)
    assert memo.lookup(Prompt("fim", text="other"), GenerationParams(max_tokens=24)) is None
    assert memo.lookup(PROMPT, GenerationParams(max_tokens=48)) is None


def test_sampled_and_cancelled_generations_are_not_remembered():
    memo = GenerationMemo()
    memo.remember(PROMPT, GenerationParams(temperature=0.7), ANSWER)
    assert memo.lookup(PROMPT, GenerationParams(temperature=0.7)) is None
    cut = [Generation("ret", tokens=1, prompt_tokens=9, seconds=0.1, finish_reason="cancelled")]
    memo.remember(PROMPT, GenerationParams(), cut)
    assert memo.lookup(PROMPT, GenerationParams()) is None


def test_the_least_recently_used_answer_goes_first():
    memo = GenerationMemo(size=2)
    prompts = [Prompt("fim", text=str(i)) for i in range(3)]
    for prompt in prompts:
        memo.remember(prompt, GenerationParams(), ANSWER)
    assert memo.lookup(prompts[0], GenerationParams()) is None
    assert memo.lookup(prompts[2], GenerationParams()) is not None
