from codequorum.server.user_limits import UserLimits, UserLimitSettings


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_a_burst_then_the_rate_and_each_user_apart():
    clock = Clock()
    limits = UserLimits(UserLimitSettings(requests_per_second=2, burst=3, max_concurrent=0), clock)
    for _ in range(3):
        assert limits.admit("alice") is None
        limits.done("alice")
    refusal = limits.admit("alice")
    assert refusal is not None and "more than 2 requests per second" in refusal
    assert "user_requests_per_second" in refusal and "retry in 0.50 s" in refusal
    assert limits.admit("bob") is None  # bob has his own bucket
    clock.now += 0.5
    assert limits.admit("alice") is None  # one token back after 1/rate seconds
    assert limits.admit("alice") is not None


def test_requests_in_progress_are_capped_until_one_is_answered():
    limits = UserLimits(UserLimitSettings(requests_per_second=0, burst=1, max_concurrent=2), Clock())
    assert limits.admit("alice") is None and limits.admit("alice") is None
    refusal = limits.admit("alice")
    assert refusal is not None and "user_max_concurrent = 2" in refusal
    assert limits.in_progress("alice") == 2
    limits.done("alice")
    assert limits.admit("alice") is None


def test_zero_means_no_limit_and_idle_users_are_forgotten():
    limits = UserLimits(UserLimitSettings(requests_per_second=0, burst=1, max_concurrent=0), Clock())
    for _ in range(1000):
        assert limits.admit("alice") is None
    for _ in range(1000):
        limits.done("alice")
    assert limits.in_progress("alice") == 0 and not limits._accounts
    limits.done("nobody")  # an unknown user's answer changes nothing
