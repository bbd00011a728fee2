import tomllib
from pathlib import Path

from typer.testing import CliRunner

from codequorum.cli.app import app
from codequorum.config import MemberConfig, Settings, load_settings, settings_from_dict


def example(tmp_path, *args: str):
    result = CliRunner().invoke(app, ["config", "example", *args])
    assert result.exit_code == 0, result.output
    path = tmp_path / "codequorum.toml"
    path.write_text(result.output)
    return result.output, load_settings(path)


def test_the_example_loads_back_to_exactly_the_defaults(tmp_path):
    text, loaded = example(tmp_path)
    defaults = settings_from_dict({}, source="defaults")
    assert loaded.model_dump() == defaults.model_dump()
    data = tomllib.loads(text)
    assert set(data["members"]) == {"qwen-large", "qwen-small", "smollm2"}
    sections = {name for name, f in Settings.model_fields.items()
                if isinstance(f.annotation, type) and f.annotation.__module__ == "codequorum.config"}
    assert sections <= set(data)  # every section is written out, not left implicit


def test_every_member_key_is_written_with_a_comment(tmp_path):
    text, _ = example(tmp_path)
    member = text[text.index("[members.smollm2]"):]
    for name, field in MemberConfig.model_fields.items():
        if name != "name":
            assert f"\n{name} =" in member or f"\n# {name} =" in member, name
            assert f"# {field.description}\n" in member


def test_remote_adds_an_openai_member_at_that_url(tmp_path):
    _, loaded = example(tmp_path, "--remote", "http://gpu-1:8000/v1", "--remote-model", "coder-7b")
    remote = loaded.members["remote"]
    assert (remote.backend, remote.base_url, remote.model) == ("openai", "http://gpu-1:8000/v1", "coder-7b")
    assert loaded.strongest_member().name == "remote"
    assert {"qwen-large", "qwen-small", "smollm2"} <= set(loaded.members)


def test_the_deployment_guide_configuration_is_valid():
    guide = (Path(__file__).resolve().parents[3] / "docs" / "deployment.md").read_text()
    block = guide.split("```toml\n", 1)[1].split("```", 1)[0]
    settings = settings_from_dict(tomllib.loads(block), source="docs/deployment.md")
    assert {m.backend for m in settings.enabled_members()} == {"openai"}
    assert set(settings.server.inline_members or []) <= set(settings.members)
