import hashlib
import tomllib

import pytest

from codequorum.config import settings_from_dict
from codequorum.distill.member import member_table, register, write_checksum
from codequorum.vocabulary.errors import CodequorumError


def test_the_checksum_is_written_beside_the_model(tmp_path):
    model = tmp_path / "m.gguf"
    model.write_bytes(b"GGUF and some weights")
    digest = write_checksum(model)
    assert digest == hashlib.sha256(b"GGUF and some weights").hexdigest()
    assert (tmp_path / "m.gguf.sha256").read_text() == f"{digest}  m.gguf\n"


def test_the_member_table_runs_the_file_like_the_member_it_came_from(tmp_path):
    like = settings_from_dict({}, source="test").members["qwen-small"]
    table = member_table("qwen-small-distilled", tmp_path / "m.gguf", like, "ab" * 32)
    settings = settings_from_dict(tomllib.loads(table), source="fragment")
    member = settings.members["qwen-small-distilled"]
    assert (member.backend, member.path, member.fim) == ("llama-cpp", (tmp_path / "m.gguf").resolve(), "qwen")
    assert (member.quality, member.price_per_1k_tokens) == (like.quality, like.price_per_1k_tokens)
    assert "qwen-small" in settings.members  # the original stays


def test_register_appends_and_never_overwrites(tmp_path):
    config = tmp_path / "config.toml"
    config.write_text('[server]\nfeedback_keep_text = true')
    like = settings_from_dict({}, source="test").members["qwen-small"]
    table = member_table("d", tmp_path / "m.gguf", like, "0" * 64)
    register(config, "d", table)
    data = tomllib.loads(config.read_text())
    assert data["server"] == {"feedback_keep_text": True} and data["members"]["d"]["backend"] == "llama-cpp"
    with pytest.raises(CodequorumError, match="already has"):
        register(config, "d", table)
    register(tmp_path / "new" / "config.toml", "d", table)
    assert tomllib.loads((tmp_path / "new" / "config.toml").read_text())["members"]["d"]
