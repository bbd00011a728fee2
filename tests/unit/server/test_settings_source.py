import pytest

from codequorum.server.settings_source import SettingsSource
from codequorum.vocabulary.errors import ConfigError

FILE = {"engine": {"max_tokens": 99}, "server": {"debounce_ms": 10}}


def test_options_override_the_file_key_by_key():
    configured = SettingsSource(FILE, "team.toml").with_options({"server": {"alternatives": 1}}, "init")
    settings = configured.settings
    assert settings.engine.max_tokens == 99
    assert settings.server.debounce_ms == 10 and settings.server.alternatives == 1
    assert settings.source == "init over team.toml" and configured.refused == ()


def test_options_may_come_under_a_codequorum_key():
    options = {"codequorum": {"server": {"debounce_ms": 5}}}
    assert SettingsSource(FILE, "f").with_options(options, "init").settings.server.debounce_ms == 5


def test_an_invalid_option_is_refused_by_name_and_the_others_apply():
    configured = SettingsSource({}, "built-in defaults").with_options(
        {"server": {"debounce_ms": -1, "alternatives": 2}}, "didChange")
    assert [item.key for item in configured.refused] == ["server.debounce_ms"]
    assert "greater than or equal to 0" in configured.refused[0].reason
    assert configured.settings.server.debounce_ms == 75 and configured.settings.server.alternatives == 2


def test_options_outside_the_allow_list_never_reach_the_settings():
    configured = SettingsSource(FILE, "f").with_options({"engine": {"max_tokens": 1}}, "init")
    assert configured.settings.engine.max_tokens == 99
    assert [item.key for item in configured.refused] == ["engine"]


def test_options_that_are_not_an_object_are_refused():
    with pytest.raises(ConfigError, match="expected an object"):
        SettingsSource({}, "f").with_options(["server"], "init")


def test_a_bad_toml_file_is_refused(tmp_path):
    path = tmp_path / "bad.toml"
    path.write_text("[server\n")
    with pytest.raises(ConfigError, match="not valid TOML"):
        SettingsSource.load(path)


def test_the_file_is_read(tmp_path):
    path = tmp_path / "c.toml"
    path.write_text("[server]\ninline_deadline_s = 0.5\n")
    assert SettingsSource.load(path).settings().server.inline_deadline_s == 0.5


def test_the_stdio_client_may_switch_members_and_tune_the_engine():
    options = {"engine": {"max_tokens": 7}, "members": {"qwen-large": {"enabled": False}}}
    configured = SettingsSource(FILE, "f").with_options(options, "init", trusted=True)
    assert configured.settings.engine.max_tokens == 7 and configured.refused == ()
    assert not configured.settings.members["qwen-large"].enabled


def test_the_stdio_client_never_defines_a_member_a_path_or_a_limit():
    # Its settings may come from a repository's workspace settings: the same class as a
    # network client's, less wide.
    options = {
        "members": {"evil": {"backend": "openai", "base_url": "http://127.0.0.1:9/v1",
                             "api_key_env": "VLLM_API_KEY"},
                    "qwen-large": {"path": "/tmp/x.gguf"}},
        "server": {"feedback_db": "/tmp/anywhere.sqlite3", "debounce_ms": -1},
        "sandbox": {"memory_mb": 6144},
    }
    configured = SettingsSource(FILE, "f").with_options(options, "init", trusted=True)
    refused = {item.key for item in configured.refused}
    assert refused == {"members.evil", "members.qwen-large.path", "server.feedback_db",
                       "server.debounce_ms", "sandbox"}
    assert "evil" not in configured.settings.members
    assert configured.settings.sandbox.memory_mb != 6144
