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


def test_the_trusted_stdio_client_may_set_any_key():
    options = {"engine": {"max_tokens": 7}, "members": {"qwen-large": {"enabled": False}}}
    configured = SettingsSource(FILE, "f").with_options(options, "init", trusted=True)
    assert configured.settings.engine.max_tokens == 7 and configured.refused == ()
    assert not configured.settings.members["qwen-large"].enabled
    with pytest.raises(ConfigError, match="server.debounce_ms"):
        SettingsSource(FILE, "f").with_options({"server": {"debounce_ms": -1}}, "init", trusted=True)
