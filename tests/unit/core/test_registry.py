import subprocess
import sys
from pathlib import Path

import pytest

from codequorum.core.registry import Registry
from codequorum.vocabulary.errors import PluginError

FIXTURE = Path(__file__).parents[2] / "fixtures" / "codequorum-plugin-example"


def test_builtins_are_found_through_entry_points():
    registry = Registry()
    assert {"single", "best-of"} <= set(registry.names("strategies"))
    assert "llama-cpp" in registry.names("backends")
    assert registry.load("strategies", "single").name == "single"


def test_unknown_name_lists_the_available_ones():
    with pytest.raises(PluginError, match=r"no strategy plugin named 'nope' \(available: .*single"):
        Registry().load("strategies", "nope")


def test_disabled_plugin_is_neither_listed_nor_loaded():
    registry = Registry(disabled=frozenset({"strategies.single"}))
    assert "single" not in registry.names("strategies")
    with pytest.raises(PluginError, match="disabled"):
        registry.load("strategies", "single")


def test_registered_plugin_is_found_next_to_entry_points():
    registry = Registry()
    registry.register("strategies", "mine", object)
    assert "mine" in registry.names("strategies")
    assert registry.load("strategies", "mine") is object


@pytest.fixture(scope="module")
def installed_example(tmp_path_factory) -> Path:
    """Install the third-party example package for real (pip, offline) into a folder."""
    target = tmp_path_factory.mktemp("site")
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--no-deps", "--no-index", "--no-build-isolation",
         "--disable-pip-version-check", "-q", "--target", str(target), str(FIXTURE)],
        check=True,
    )
    return target


def test_third_party_package_is_found_through_its_entry_points(installed_example, monkeypatch):
    monkeypatch.syspath_prepend(str(installed_example))
    registry = Registry()
    assert "echo" in registry.names("backends")
    assert "shortest" in registry.names("strategies")
    assert registry.load("strategies", "shortest").name == "shortest"


async def test_engine_runs_a_request_through_third_party_plugins(installed_example, monkeypatch):
    monkeypatch.syspath_prepend(str(installed_example))
    from codequorum.config import settings_from_dict
    from codequorum.core.engine import Engine
    from codequorum.vocabulary.request import Request, TaskKind

    settings = settings_from_dict(
        {"include_default_members": False, "plugins": {"disabled": ["checks.syntax"]},
         "members": {"a": {"backend": "echo", "options": {"reply": "x = 1  # long"}},
                     "b": {"backend": "echo", "options": {"reply": "x = 1"}}}},
        source="t",
    )
    result = await Engine(settings).run(Request(TaskKind.GENERATE, instruction="x"), strategy="shortest")
    assert result.text.strip() == "x = 1"
    assert result.trace.stop_reason == "shortest answer"
