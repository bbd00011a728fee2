"""The server's counters for operators, in Prometheus' text format (`GET /metrics`).

One registry per server process (`ServerContext.metrics`), updated at two boundaries only:
the request boundary (server/protocol.py: every LSP request, its user, latency and outcome)
and the engine-run boundary (server/stats.py: every member call, cache lookups), plus the
transports counting connections. The exposition format is written by hand (text format 0.0.4):
no dependency for a few dozen lines.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

Labels = tuple[str, ...]

LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.5, 0.75, 1.0, 1.5, 2.0, 3.0, 5.0,
                   10.0, 30.0)
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


@dataclass
class _Family:
    name: str
    help: str
    labels: Sequence[str]
    kind: str  # counter, gauge, histogram

    def header(self) -> list[str]:
        return [f"# HELP {self.name} {self.help}", f"# TYPE {self.name} {self.kind}"]

    def key(self, values: Labels) -> Labels:
        if len(values) != len(self.labels):
            raise ValueError(f"{self.name} takes labels {tuple(self.labels)}, got {values}")
        return tuple(str(value) for value in values)


@dataclass
class Counter(_Family):
    kind: str = "counter"
    values: dict[Labels, float] = field(default_factory=dict)

    def inc(self, *labels: str, by: float = 1.0) -> None:
        key = self.key(labels)
        self.values[key] = self.values.get(key, 0.0) + by

    def lines(self) -> list[str]:
        return [f"{self.name}{_labels(self.labels, key)} {_number(value)}"
                for key, value in sorted(self.values.items())]


@dataclass
class Gauge(Counter):
    kind: str = "gauge"

    def dec(self, *labels: str) -> None:
        self.inc(*labels, by=-1.0)


@dataclass
class Histogram(_Family):
    kind: str = "histogram"
    buckets: Sequence[float] = LATENCY_BUCKETS
    series: dict[Labels, list[float]] = field(default_factory=dict)  # bucket counts, then sum

    def observe(self, value: float, *labels: str) -> None:
        key = self.key(labels)
        counts = self.series.setdefault(key, [0.0] * (len(self.buckets) + 2))
        for index, bound in enumerate(self.buckets):
            if value <= bound:
                counts[index] += 1
        counts[-2] += 1  # +Inf, which is also the count
        counts[-1] += value

    def lines(self) -> list[str]:
        out = []
        for key, counts in sorted(self.series.items()):
            for bound, count in zip((*self.buckets, math.inf), counts, strict=False):
                le = "+Inf" if bound == math.inf else _number(bound)
                out.append(f"{self.name}_bucket{_labels((*self.labels, 'le'), (*key, le))} {_number(count)}")
            out.append(f"{self.name}_sum{_labels(self.labels, key)} {_number(counts[-1])}")
            out.append(f"{self.name}_count{_labels(self.labels, key)} {_number(counts[-2])}")
        return out


class Metrics:
    """Every series the server exposes. Methods are the events the boundaries report."""

    def __init__(self) -> None:
        self._lock = threading.Lock()  # the stdio server answers from threads too
        self.requests = Counter("codequorum_requests_total", "LSP requests received, by method and user",
                                ("method", "user"))
        self.responses = Counter("codequorum_responses_total", "LSP responses sent, by method and "
                                 "outcome (ok, error, cancelled, refused, rate_limited)", ("method", "outcome"))
        self.request_seconds = Histogram("codequorum_request_duration_seconds",
                                         "time from a request to its response, by method", ("method",))
        self.inline = Counter("codequorum_inline_completions_total", "inline completions answered, "
                              "by whether they held a suggestion (answered) or none (empty)", ("result",))
        self.inline_seconds = Histogram("codequorum_inline_completion_duration_seconds",
                                        "latency of answered inline completions", ())
        self.member_calls = Counter("codequorum_member_calls_total", "member calls of completion runs, "
                                    "by member and outcome (ok, error, stopped)", ("member", "outcome"))
        self.member_seconds = Histogram("codequorum_member_call_duration_seconds",
                                        "duration of member calls, by member", ("member",))
        self.member_tokens = Counter("codequorum_member_tokens_total", "tokens generated, by member",
                                     ("member",))
        self.cache = Counter("codequorum_cache_lookups_total", "completion cache lookups, by result "
                             "(hit, miss)", ("result",))
        self.connections = Counter("codequorum_connections_total", "connections accepted, by transport",
                                   ("transport",))
        self.open_connections = Gauge("codequorum_connections_open", "connections open now, by transport",
                                      ("transport",))
        self.refused_connections = Counter("codequorum_connections_refused_total", "connections closed "
                                           "before a session: over a limit, a failed TLS handshake, a "
                                           "wrong token", ("transport", "reason"))
        self.user_requests = Counter("codequorum_user_requests_total", "requests per user, by outcome "
                                     "(served, rate_limited)", ("user", "outcome"))
        self._families: tuple[Counter | Histogram, ...] = (
            self.requests, self.responses, self.request_seconds, self.inline, self.inline_seconds,
            self.member_calls, self.member_seconds, self.member_tokens, self.cache, self.connections,
            self.open_connections, self.refused_connections, self.user_requests)

    def request_received(self, method: str, user: str) -> None:
        with self._lock:
            self.requests.inc(method, user)

    def request_answered(self, method: str, user: str, outcome: str, seconds: float,
                         suggestions: int | None = None) -> None:
        with self._lock:
            self.responses.inc(method, outcome)
            self.request_seconds.observe(seconds, method)
            self.user_requests.inc(user, "rate_limited" if outcome == "rate_limited" else "served")
            if suggestions is not None and outcome == "ok":
                self.inline.inc("answered" if suggestions else "empty")
                self.inline_seconds.observe(seconds)

    def member_called(self, member: str, seconds: float, tokens: int, error: str | None,
                      stopped: str | None) -> None:
        outcome = "error" if error else "stopped" if stopped else "ok"
        with self._lock:
            self.member_calls.inc(member, outcome)
            self.member_seconds.observe(seconds, member)
            self.member_tokens.inc(member, by=tokens)

    def cache_looked_up(self, hit: bool) -> None:
        with self._lock:
            self.cache.inc("hit" if hit else "miss")

    def connection_opened(self, transport: str) -> None:
        with self._lock:
            self.connections.inc(transport)
            self.open_connections.inc(transport)

    def connection_closed(self, transport: str) -> None:
        with self._lock:
            self.open_connections.dec(transport)

    def connection_refused(self, transport: str, reason: str) -> None:
        with self._lock:
            self.refused_connections.inc(transport, reason)

    def render(self) -> str:
        with self._lock:
            return "\n".join(_all_lines(self._families)) + "\n"


def _all_lines(families: Iterable[Counter | Histogram]) -> Iterable[str]:
    for family in families:
        yield from family.header()
        yield from family.lines()


def _labels(names: Sequence[str], values: Sequence[str]) -> str:
    if not names:
        return ""
    pairs = ",".join(f'{name}="{_escape(value)}"' for name, value in zip(names, values, strict=True))
    return "{" + pairs + "}"


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def _number(value: float) -> str:
    if value == math.inf:
        return "+Inf"
    return str(int(value)) if float(value).is_integer() else repr(float(value))
