import pytest

from codequorum.server.settings_source import SettingsSource
from codequorum.vocabulary.errors import ConfigError

FILE = {"engine": {"max_tokens": 99}, "server": {"debounce_ms": 10}}


def test_options_override_the_file_key_by_key():
    settings = SettingsSource(FILE, "team.toml").with_options({"server": {"alternatives": 1}}, "init")
    assert settings.engine.max_tokens == 99
    assert settings.server.debounce_ms == 10 and settings.server.alternatives == 1
    assert settings.source == "init over team.toml"


def test_options_may_come_under_a_codequorum_key():
    options = {"codequorum": {"server": {"debounce_ms": 5}}}
    assert SettingsSource(FILE, "f").with_options(options, "init").server.debounce_ms == 5


def test_invalid_options_name_the_origin_and_the_key():
    with pytest.raises(ConfigError) as error:
        SettingsSource({}, "built-in defaults").with_options({"server": {"debounce_ms": -1}}, "didChange")
    assert "didChange" in str(error.value) and "server.debounce_ms" in str(error.value)


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
