"""The registry and its Prometheus text exposition, parsed back line by line."""

import re

from codequorum.server.health import Health
from codequorum.server.metrics import Metrics

SAMPLE = re.compile(r'^([a-z_]+)(\{(?:[a-z_]+="(?:[^"\\]|\\.)*",?)*\})? (-?[0-9.e+]+|\+Inf)$')


def samples(text: str) -> dict[str, float]:
    out = {}
    for line in text.splitlines():
        if line.startswith("#"):
            assert re.match(r"^# (HELP|TYPE) [a-z_]+ .+$", line), line
            continue
        match = SAMPLE.match(line)
        assert match, f"not a Prometheus sample: {line!r}"
        out[match.group(1) + (match.group(2) or "")] = float(match.group(3))
    return out


def test_requests_latency_and_inline_answers():
    metrics = Metrics()
    metrics.request_received("textDocument/inlineCompletion", "alice")
    metrics.request_answered("textDocument/inlineCompletion", "alice", "ok", 0.03, suggestions=2)
    metrics.request_answered("textDocument/inlineCompletion", "alice", "ok", 0.2, suggestions=0)
    metrics.request_answered("textDocument/inlineCompletion", "bob", "rate_limited", 0.0, suggestions=0)
    got = samples(metrics.render())
    assert got['codequorum_requests_total{method="textDocument/inlineCompletion",user="alice"}'] == 1
    assert got['codequorum_inline_completions_total{result="answered"}'] == 1
    assert got['codequorum_inline_completions_total{result="empty"}'] == 1
    assert got['codequorum_responses_total{method="textDocument/inlineCompletion",outcome="rate_limited"}'] == 1
    assert got['codequorum_user_requests_total{user="bob",outcome="rate_limited"}'] == 1
    assert got['codequorum_user_requests_total{user="alice",outcome="served"}'] == 2
    assert got['codequorum_inline_completion_duration_seconds_bucket{le="0.05"}'] == 1
    assert got['codequorum_inline_completion_duration_seconds_bucket{le="0.2"}'] == 2
    assert got['codequorum_inline_completion_duration_seconds_bucket{le="+Inf"}'] == 2
    assert got["codequorum_inline_completion_duration_seconds_count"] == 2
    assert abs(got["codequorum_inline_completion_duration_seconds_sum"] - 0.23) < 1e-9


def test_member_calls_cache_and_connections():
    metrics = Metrics()
    metrics.member_called("coder", 0.4, 12, None, None)
    metrics.member_called("coder", 1.0, 0, "deadline", None)
    metrics.member_called("small", 0.1, 3, None, "settled")
    metrics.cache_looked_up(True)
    metrics.cache_looked_up(False)
    metrics.cache_looked_up(False)
    metrics.connection_opened("tls")
    metrics.connection_opened("tls")
    metrics.connection_closed("tls")
    metrics.connection_refused("tls", "tls_handshake")
    got = samples(metrics.render())
    assert got['codequorum_member_calls_total{member="coder",outcome="ok"}'] == 1
    assert got['codequorum_member_calls_total{member="coder",outcome="error"}'] == 1
    assert got['codequorum_member_calls_total{member="small",outcome="stopped"}'] == 1
    assert got['codequorum_member_tokens_total{member="coder"}'] == 12
    assert got['codequorum_member_call_duration_seconds_count{member="coder"}'] == 2
    assert got['codequorum_cache_lookups_total{result="hit"}'] == 1
    assert got['codequorum_cache_lookups_total{result="miss"}'] == 2
    assert got['codequorum_connections_total{transport="tls"}'] == 2
    assert got['codequorum_connections_open{transport="tls"}'] == 1
    assert got['codequorum_connections_refused_total{transport="tls",reason="tls_handshake"}'] == 1


def test_label_values_are_escaped():
    metrics = Metrics()
    metrics.request_received('we"ird\\name\n', 'u"')
    text = metrics.render()
    assert 'method="we\\"ird\\\\name\\n",user="u\\""' in text
    samples(text)


def test_health_follows_the_warm_ups():
    health = Health()
    assert health.report(0)["state"] == "starting"
    health.warm_up_started()
    health.warm_up_started()
    assert health.state == "loading"
    health.warm_up_ended(1.5)
    assert health.state == "loading"  # one still loading
    health.warm_up_ended(2.0, "codequorum: loading the models failed: no file")
    report = health.report(3)
    assert report["state"] == "error" and "no file" in report["message"] and report["connections"] == 3
    health.warm_up_started()
    health.warm_up_abandoned()
    assert health.state == "error"
    health.warm_up_started()
    health.warm_up_ended(0.5)
    assert health.report(1) == {"state": "ready", "uptime_s": health.report(1)["uptime_s"],
                                "connections": 1, "warm_up_seconds": 0.5}
