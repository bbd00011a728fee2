from pathlib import Path

import pytest

from codequorum.config import load_settings, settings_from_dict
from codequorum.vocabulary.errors import ConfigError


def test_defaults_are_the_embedded_ensemble():
    settings = settings_from_dict({}, source="defaults")
    assert set(settings.members) == {"qwen-large", "qwen-small", "smollm2"}
    assert settings.strongest_member().name == "qwen-large"
    assert settings.members["smollm2"].fim is None
    assert settings.engine.strategy == "cascade:samples=1:probes=6:resample=3:repair=2"
    assert settings.generation_members() == ["qwen-large", "qwen-small"]


def test_file_overrides_merge_into_default_members(tmp_path: Path):
    path = tmp_path / "codequorum.toml"
    path.write_text('[engine]\nstrategy = "single"\n[members.qwen-small]\nenabled = false\n')
    settings = load_settings(path)
    assert settings.engine.strategy == "single"
    assert [m.name for m in settings.enabled_members()] == ["qwen-large", "smollm2"]
    assert settings.source == str(path)


def test_bad_value_names_file_key_and_expectation(tmp_path: Path):
    path = tmp_path / "bad.toml"
    path.write_text("[engine]\nmax_tokens = 'lots'\n")
    with pytest.raises(ConfigError) as caught:
        load_settings(path)
    message = str(caught.value)
    assert str(path) in message and "engine.max_tokens" in message and "integer" in message


def test_unknown_key_is_reported_as_a_spelling_problem(tmp_path: Path):
    path = tmp_path / "bad.toml"
    path.write_text("[engine]\nstrategee = 'single'\n")
    with pytest.raises(ConfigError, match="engine.strategee: unknown key"):
        load_settings(path)


def test_invalid_toml_reports_the_file(tmp_path: Path):
    path = tmp_path / "broken.toml"
    path.write_text("[engine\n")
    with pytest.raises(ConfigError, match="broken.toml: not valid TOML"):
        load_settings(path)


def test_missing_explicit_file_is_an_error(tmp_path: Path):
    with pytest.raises(ConfigError, match="does not exist"):
        load_settings(tmp_path / "nope.toml")


def test_member_needs_a_model_or_path():
    with pytest.raises(ConfigError, match="members.mine"):
        settings_from_dict({"members": {"mine": {"backend": "llama-cpp"}}}, source="t")


def test_resolution_prefers_cwd_file_over_defaults(tmp_path: Path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("CODEQUORUM_CONFIG", raising=False)
    (tmp_path / "codequorum.toml").write_text("[engine]\ndeadline_s = 5\n")
    assert load_settings().engine.deadline_s == 5


def test_no_enabled_members_is_a_clear_error():
    settings = settings_from_dict({"include_default_members": False}, source="t")
    with pytest.raises(ConfigError, match="no enabled members"):
        settings.strongest_member()
