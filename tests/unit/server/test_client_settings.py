"""The allow-list of what a client may set: each key judged on its own."""

import pytest

from codequorum.config import ServerConfig, settings_from_dict
from codequorum.server.client_settings import (
    MEMBER_CHOICES,
    STRATEGY_CHOICES,
    TUNABLE,
    describe,
    screen,
)

BASE = settings_from_dict({"server": {"cache_size": 100}}, "team.toml")
STRATEGIES = {"single", "best-of", "vote"}


def screened(options):
    return screen(options, BASE, lambda: STRATEGIES)


def refused_keys(options):
    return [item.key for item in screened(options).refused]


@pytest.mark.parametrize("section", ["members", "engine", "sandbox", "ranking", "plugins", "models",
                                     "strategies", "scheduler", "include_default_members", "token",
                                     "distill", "anything"])
def test_every_section_but_server_is_refused(section):
    result = screened({section: {"x": 1}, "server": {"debounce_ms": 5}})
    assert [item.key for item in result.refused] == [section]
    assert result.server == {"debounce_ms": 5}  # the rest still applies


def test_where_verified_answers_are_kept_is_not_even_the_own_editors_to_set():
    options = {"distill": {"verified_log": "/tmp/elsewhere.jsonl", "keep_verified": True}}
    [item] = screen(options, BASE, lambda: STRATEGIES, own_editor=True).refused
    assert item.key == "distill" and "a path on the server" in item.reason


def test_a_member_definition_is_refused_with_the_reason():
    [item] = screened({"members": {"evil": {"backend": "openai", "base_url": "http://127.0.0.1:9/v1"}}}).refused
    assert "member definitions" in item.reason and "server's configuration file" in item.reason
    assert "127.0.0.1" not in str(item)  # the value is never echoed


@pytest.mark.parametrize("key", sorted(set(ServerConfig.model_fields) - TUNABLE - MEMBER_CHOICES - STRATEGY_CHOICES))
def test_every_server_key_off_the_list_is_refused(key):
    assert refused_keys({"server": {key: getattr(BASE.server, key)}}) == [f"server.{key}"]


def test_paths_commands_and_limits_are_off_the_list():
    off = set(ServerConfig.model_fields) - TUNABLE - MEMBER_CHOICES - STRATEGY_CHOICES
    assert {"feedback_db", "fix_test_command", "client_test_command", "max_connections",
            "handshake_timeout_s", "max_message_mb", "write_queue_mb"} <= off


def test_latency_knobs_are_accepted():
    options = {"debounce_ms": 0, "inline_deadline_s": 2.5, "inline_settle_ratio": 0.5,
               "inline_max_tokens": 16, "prefix_chars": 800, "alternatives": 1, "context_chars": 0,
               "background_refine": False, "cache_size": 10}
    result = screened({"server": options})
    assert result.refused == () and result.server == options


def test_values_outside_the_schema_bounds_are_refused():
    assert refused_keys({"server": {"inline_max_tokens": 100000, "debounce_ms": "soon"}}) == [
        "server.inline_max_tokens", "server.debounce_ms"]


def test_a_client_may_lower_the_cache_not_raise_it():
    assert refused_keys({"server": {"cache_size": 101}}) == ["server.cache_size"]
    assert refused_keys({"server": {"cache_size": 100}}) == []


def test_members_and_strategies_are_chosen_among_the_servers():
    ok = {"inline_members": ["qwen-small"], "fix_members": ["qwen-large"],
          "inline_strategy": "single", "generate_strategy": None}
    assert screened({"server": ok}).refused == ()
    bad = screened({"server": {"inline_members": ["qwen-small", "evil"], "inline_strategy": "mine"}})
    assert [item.key for item in bad.refused] == ["server.inline_members", "server.inline_strategy"]
    assert "evil" in bad.refused[0].reason and "'mine' is not a strategy" in bad.refused[1].reason


def test_an_unknown_server_key_is_refused_as_such():
    [item] = screened({"server": {"debounce": 5}}).refused
    assert "unknown key" in item.reason


def test_the_message_names_each_refused_key():
    message = describe(screened({"members": {}, "server": {"feedback_db": "/tmp/x"}}).refused, "init")
    assert message.startswith("codequorum: init: not applied") and "members:" in message
    assert "server.feedback_db: a path on the server" in message
