"""How much one principal (a user or team with its own token) may ask of a shared server.

Requests are counted per principal over all of its connections: a token bucket for the rate
(`user_requests_per_second`, bursts up to `user_request_burst`) and a cap on the requests in
progress at once (`user_max_concurrent`). A request over either limit is refused at once with
an error that says which limit and when to retry; notifications (the document's edits) are
never dropped. Connections without a principal (loopback without tokens) are each their own.
The limits come from `[server]` in the server's configuration file, never from a client.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from codequorum.config import ServerConfig

RATE_LIMITED = -32803  # LSP RequestFailed: the request was valid, the server declined it now


@dataclass(frozen=True)
class UserLimitSettings:
    requests_per_second: float = 20.0  # 0: no rate limit
    burst: int = 40
    max_concurrent: int = 16  # 0: no cap

    @classmethod
    def from_settings(cls, config: ServerConfig) -> UserLimitSettings:
        return cls(config.user_requests_per_second, config.user_request_burst, config.user_max_concurrent)


@dataclass
class _Account:
    tokens: float
    refilled_at: float
    in_progress: int = 0


class UserLimits:
    """Admits requests per principal; `done` must follow every admitted request."""

    def __init__(self, settings: UserLimitSettings, clock: Callable[[], float] = time.monotonic) -> None:
        self.settings = settings
        self._clock = clock
        self._accounts: dict[str, _Account] = {}

    def admit(self, principal: str) -> str | None:
        """None when the request may run (counted in progress), else why it may not."""
        account = self._account(principal)
        limits = self.settings
        if limits.max_concurrent and account.in_progress >= limits.max_concurrent:
            return (f"{account.in_progress} requests of {principal} are in progress, the most "
                    f"allowed ([server] user_max_concurrent = {limits.max_concurrent}); "
                    "retry when one has been answered")
        if limits.requests_per_second:
            self._refill(account)
            if account.tokens < 1:
                wait = (1 - account.tokens) / limits.requests_per_second
                return (f"{principal} sent more than {limits.requests_per_second:g} requests per "
                        f"second ([server] user_requests_per_second, bursts of "
                        f"{limits.burst}); retry in {wait:.2f} s")
            account.tokens -= 1
        account.in_progress += 1
        return None

    def done(self, principal: str) -> None:
        account = self._accounts.get(principal)
        if account is not None and account.in_progress > 0:
            account.in_progress -= 1
            if account.in_progress == 0 and self._full(account):
                del self._accounts[principal]  # idle: nothing to remember

    def in_progress(self, principal: str) -> int:
        account = self._accounts.get(principal)
        return account.in_progress if account else 0

    def _account(self, principal: str) -> _Account:
        account = self._accounts.get(principal)
        if account is None:
            account = self._accounts[principal] = _Account(float(self.settings.burst), self._clock())
        return account

    def _refill(self, account: _Account) -> None:
        now = self._clock()
        rate, burst = self.settings.requests_per_second, self.settings.burst
        account.tokens = min(float(burst), account.tokens + (now - account.refilled_at) * rate)
        account.refilled_at = now

    def _full(self, account: _Account) -> bool:
        if not self.settings.requests_per_second:
            return True
        self._refill(account)
        return account.tokens >= self.settings.burst
