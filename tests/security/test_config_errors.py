"""Bad configuration and bad model files: one clear error, a non-zero exit, never a traceback.

Already covered elsewhere: an invalid value in a configuration file (tests/e2e/test_cli_real_models.py
`test_bad_config_names_file_and_key`), a fake model file's integrity error in the JSON trace
(`test_corrupt_model_file_is_refused_with_the_fix`), a bad configuration sent to the server
(tests/e2e/test_lsp_server_real_models.py `test_bad_configuration_is_shown_and_the_previous_one_kept`).
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from lsprotocol import types

from codequorum.models.store import ModelStore
from tests.e2e.conftest import run_cli
from tests.e2e.lsp_session import configure, initialize, start_stdio

pytestmark = pytest.mark.e2e

SMOLLM2 = "SmolLM2-135M-Instruct.Q4_1.gguf"


def assert_one_clear_error(done, *words: str) -> None:
    assert done.returncode != 0, done.stdout[-2000:]
    assert "Traceback" not in done.stderr, done.stderr[-3000:]
    stderr = " ".join(done.stderr.split())  # rich wraps long lines
    for word in words:
        assert word in stderr, done.stderr[-3000:]


def test_a_file_that_is_not_toml_is_one_clear_error(tmp_path: Path):
    config = tmp_path / "broken.toml"
    config.write_text("[engine\ndeadline_s = 3\n")
    done = run_cli("generate", "-i", "hello", "--config", str(config), timeout=120)
    assert_one_clear_error(done, str(config), "not valid TOML", "line 1")
    assert done.returncode == 2


def test_an_unknown_strategy_is_one_clear_error_on_stderr():
    done = run_cli("generate", "-i", "hello", "--strategy", "no-such-strategy", timeout=120)
    assert_one_clear_error(done, "no-such-strategy")


def test_an_unknown_member_is_one_clear_error_on_stderr():
    done = run_cli("generate", "-i", "hello", "--member", "no-such-member", timeout=120)
    assert_one_clear_error(done, "no-such-member")


def test_a_member_whose_model_file_is_missing_is_one_clear_error(tmp_path: Path):
    config = tmp_path / "ghost.toml"
    config.write_text(f'[members.ghost]\nbackend = "llama-cpp"\npath = "{tmp_path}/nowhere.gguf"\n')
    done = run_cli("generate", "-i", "hello", "--member", "ghost", "--config", str(config), timeout=120)
    assert_one_clear_error(done, f"{tmp_path}/nowhere.gguf", "does not exist")


@pytest.fixture
def smollm2_copy(tmp_path: Path) -> tuple[Path, Path]:
    """A cache dir holding a copy of the real SmolLM2 file, and a configuration that uses it."""
    installed = ModelStore().cache_dir / SMOLLM2
    if not installed.exists():
        pytest.fail(f"{installed} is not installed: run `codequorum models install smollm2-135m`")
    cache = tmp_path / "models"
    cache.mkdir()
    shutil.copyfile(installed, cache / SMOLLM2)
    config = tmp_path / "cache.toml"
    config.write_text(f'[models]\ncache_dir = "{cache}"\n')
    return cache / SMOLLM2, config


@pytest.mark.parametrize("damage", ["tampered", "truncated"])
def test_a_damaged_copy_of_a_real_model_is_refused_with_the_fix(smollm2_copy, damage):
    model, config = smollm2_copy
    with model.open("r+b") as handle:
        if damage == "tampered":  # same size, a few bytes flipped in the middle of the weights
            handle.seek(model.stat().st_size // 2)
            chunk = handle.read(16)
            handle.seek(-16, 1)
            handle.write(bytes(b ^ 0xFF for b in chunk))
        else:
            handle.truncate(model.stat().st_size - 4096)
    done = run_cli("generate", "-i", "hello", "--member", "smollm2", "--config", str(config), timeout=300)
    assert_one_clear_error(done, "smollm2", "models install --force smollm2-135m")


def test_an_unwritable_cache_dir_is_one_clear_error(tmp_path: Path):
    not_a_dir = tmp_path / "a-file"
    not_a_dir.write_text("in the way")
    config = tmp_path / "cache.toml"
    config.write_text(f'[models]\ncache_dir = "{not_a_dir}/models"\n')
    done = run_cli("models", "install", "smollm2-135m", "--config", str(config), timeout=120)
    assert_one_clear_error(done, f"{not_a_dir}/models")


@pytest.fixture
async def server(tmp_path: Path):
    config = tmp_path / "codequorum.toml"
    config.write_text("[server]\nwarm_up = false\nfeedback = false\n")
    client = await start_stdio(config)
    await initialize(client)
    yield client
    await client.shutdown_session()
    await client.stop()


@pytest.mark.parametrize(("settings", "named"), [
    ({"server": {"inline_strategy": "no-such-strategy"}}, "no-such-strategy"),
    ({"server": {"inline_members": ["no-such-member"]}}, "no-such-member"),
])
async def test_an_unknown_strategy_or_member_sent_to_the_server_is_shown(server, settings, named):
    await configure(server, settings)
    shown = [m for m in server.messages if "workspace/didChangeConfiguration" in m.message]
    # Refused key by key (the allow-list), shown as a warning naming the value; the rest applies.
    assert len(shown) == 1 and shown[0].type == types.MessageType.Warning, server.messages
    assert named in shown[0].message and "not applied" in shown[0].message
    await configure(server, {"server": {"debounce_ms": 5}})  # still configurable, still answering
