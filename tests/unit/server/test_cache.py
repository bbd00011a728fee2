from codequorum.server.cache import CacheKey, PrefixCache
from codequorum.server.suggestions import Suggestion

BEST = Suggestion("return sum(values)", "strong", "best-of")
OTHER = Suggestion("pass", "weak", "best-of")
KEY = CacheKey("def f(values):\n    ", "\n")


def typed(key: CacheKey, chars: str) -> CacheKey:
    return CacheKey(key.prefix + chars, key.suffix)


def test_an_exact_repeat_returns_every_suggestion():
    cache = PrefixCache(4)
    cache.store(KEY, (BEST, OTHER))
    hit = cache.lookup(KEY)
    assert hit.suggestions == (BEST, OTHER) and hit.typed == ""


def test_typed_through_returns_the_rest_of_the_suggestions_that_match():
    cache = PrefixCache(4)
    cache.store(KEY, (BEST, OTHER))
    hit = cache.lookup(typed(KEY, "retu"))
    assert [s.text for s in hit.suggestions] == ["rn sum(values)"] and hit.typed == "retu"
    assert hit.suggestions[0].member == "strong"


def test_typing_the_whole_suggestion_leaves_nothing_to_offer():
    cache = PrefixCache(4)
    cache.store(KEY, (BEST,))
    assert cache.lookup(typed(KEY, BEST.text)) is None


def test_typing_something_else_misses():
    cache = PrefixCache(4)
    cache.store(KEY, (BEST,))
    assert cache.lookup(typed(KEY, "x")) is None


def test_other_text_after_the_cursor_misses():
    cache = PrefixCache(4)
    cache.store(KEY, (BEST,))
    assert cache.lookup(CacheKey(KEY.prefix, "\nprint(1)\n")) is None


def test_deleting_back_past_the_cached_cursor_misses():
    cache = PrefixCache(4)
    cache.store(KEY, (BEST,))
    assert cache.lookup(CacheKey(KEY.prefix[:-1], KEY.suffix)) is None


def test_the_least_recently_used_entry_is_evicted():
    cache = PrefixCache(2)
    keys = [CacheKey(f"x{n} = ", "") for n in range(3)]
    for key in keys[:2]:
        cache.store(key, (BEST,))
    cache.lookup(keys[0])
    cache.store(keys[2], (BEST,))
    assert cache.lookup(keys[1]) is None and cache.lookup(keys[0]) and len(cache) == 2


def test_size_zero_disables_the_cache():
    cache = PrefixCache(0)
    cache.store(KEY, (BEST,))
    assert cache.lookup(KEY) is None
