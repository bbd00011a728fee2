import json
from typing import ClassVar

from codequorum.bench.live_cache import LiveCache, cache_key
from codequorum.bench.replay import ReplayPool, replay_backend
from codequorum.vocabulary.cancel import CancelToken
from codequorum.vocabulary.generation import Generation, GenerationParams, Prompt

PROMPT = Prompt("chat", text="fuse these answers")
PARAMS = GenerationParams(max_tokens=64)
ANSWER = Generation("def f():\n    return 1\n", 12, 40, 3.5, -0.1)


def test_generations_survive_a_reopen_with_their_measured_figures(tmp_path):
    path = tmp_path / "live.jsonl"
    LiveCache.open(path).put("big", PROMPT, PARAMS, [ANSWER])
    assert LiveCache.open(path).get("big", PROMPT, PARAMS) == [ANSWER]


def test_the_key_is_member_prompt_and_sampling():
    key = cache_key("big", PROMPT, PARAMS)
    assert key != cache_key("small", PROMPT, PARAMS)
    assert key != cache_key("big", Prompt("chat", text="other"), PARAMS)
    assert key != cache_key("big", PROMPT, GenerationParams(max_tokens=64, temperature=0.6))
    assert key == cache_key("big", PROMPT, GenerationParams(max_tokens=64, stop_at=lambda _t: None))


def test_cancelled_or_empty_answers_are_not_kept(tmp_path):
    cache = LiveCache.open(tmp_path / "live.jsonl")
    cache.put("big", PROMPT, PARAMS, [Generation("def f", 2, 40, 0.4, finish_reason="cancelled")])
    cache.put("big", PROMPT, PARAMS, [])
    assert cache.get("big", PROMPT, PARAMS) is None and not (tmp_path / "live.jsonl").exists()


def test_a_damaged_line_is_skipped_not_fatal(tmp_path):
    path = tmp_path / "live.jsonl"
    LiveCache.open(path).put("big", PROMPT, PARAMS, [ANSWER])
    with path.open("a") as handle:
        handle.write('{"key": "truncated\n' + json.dumps({"key": "k", "generations": [{"x": 1}]}) + "\n")
    reopened = LiveCache.open(path)
    assert len(reopened) == 1 and reopened.get("big", PROMPT, PARAMS) == [ANSWER]


class CountingBackend:
    def __init__(self) -> None:
        self.calls = 0

    async def generate(self, prompt, params, cancel):
        self.calls += 1
        return [ANSWER]


class Member:
    name = "big"
    fim = None
    options: ClassVar[dict] = {}


async def test_a_prompt_the_collection_lacks_is_generated_once_then_served_from_the_cache(tmp_path):
    pool = ReplayPool.of([], sampled=None)
    pool.start("p1")
    pool._collected_prompts = frozenset({Prompt("chat", text="collected")})
    live = CountingBackend()
    for _ in range(2):  # two replays, each with a fresh backend and the cache reopened from disk
        backend = replay_backend(pool, live_cache=LiveCache.open(tmp_path / "live.jsonl"))(Member(), None)
        backend._live = live
        assert await backend.generate(PROMPT, PARAMS, CancelToken()) == [ANSWER]
    assert live.calls == 1


def test_a_whole_strategys_outcome_is_kept_by_its_key(tmp_path):
    from codequorum.bench.live_cache import outcome_key

    key = outcome_key("logit-fusion", {}, ["a", "b"], "def f():", 384)
    assert key != outcome_key("logit-fusion", {"temperature": 0.6}, ["a", "b"], "def f():", 384)
    LiveCache.open(tmp_path / "live.jsonl").put_outcome(key, {"problem": "p1", "passed": True})
    reopened = LiveCache.open(tmp_path / "live.jsonl")
    assert reopened.outcome(key) == {"problem": "p1", "passed": True} and len(reopened) == 1
