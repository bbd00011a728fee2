"""The merge on a tiny GGUF written by gguf-py's own writer: changed tensors hold W + λ·T,
everything else is the base file's bytes."""

import gguf
import numpy as np
import pytest

from codequorum.distill.gguf_merge import merge_gguf
from codequorum.vocabulary.errors import CodequorumError

Q8_0 = gguf.GGMLQuantizationType.Q8_0
RNG = np.random.default_rng(0)
ATTN_Q = RNG.normal(size=(8, 64)).astype(np.float32)  # [out, in]
FFN_UP = RNG.normal(size=(16, 64)).astype(np.float32)
UNTOUCHED = RNG.normal(size=(4, 64)).astype(np.float32)
NORM = RNG.normal(size=(64,)).astype(np.float32)


@pytest.fixture
def base(tmp_path):
    path = tmp_path / "base.gguf"
    writer = gguf.GGUFWriter(path, "qwen2")
    writer.add_name("Tiny")
    writer.add_uint32("qwen2.block_count", 1)
    writer.add_array("tokenizer.ggml.tokens", ["a", "b", "c"])
    writer.add_tensor("blk.0.attn_q.weight", gguf.quants.quantize(ATTN_Q, Q8_0), raw_dtype=Q8_0)
    writer.add_tensor("blk.0.ffn_up.weight", FFN_UP.astype(np.float16))
    writer.add_tensor("blk.0.attn_k.weight", gguf.quants.quantize(UNTOUCHED, Q8_0), raw_dtype=Q8_0)
    writer.add_tensor("blk.0.attn_norm.weight", NORM)
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    return path


def _tensors(path):
    reader = gguf.GGUFReader(path)
    return reader, {t.name: t for t in reader.tensors}


def _deltas():
    return {"blk.0.attn_q.weight": RNG.normal(size=ATTN_Q.shape).astype(np.float32),
            "blk.0.ffn_up.weight": RNG.normal(size=FFN_UP.shape).astype(np.float32)}


@pytest.mark.parametrize("merged_type", ["f16", "q8_0"])
def test_changed_tensors_hold_w_plus_lambda_t_and_the_rest_is_byte_for_byte(base, tmp_path, merged_type):
    deltas = _deltas()
    summary = merge_gguf(base, tmp_path / "merged.gguf", deltas, 0.5, merged_type)
    assert (summary.changed, summary.copied) == (2, 2)
    _, before = _tensors(base)
    reader, after = _tensors(summary.path)
    expected_type = gguf.GGMLQuantizationType.F16 if merged_type == "f16" else Q8_0
    tolerance = 2e-3 if merged_type == "f16" else 3e-2
    for name, delta in deltas.items():
        assert after[name].tensor_type == expected_type
        original = gguf.quants.dequantize(before[name].data, before[name].tensor_type)
        merged = gguf.quants.dequantize(after[name].data, after[name].tensor_type)
        np.testing.assert_allclose(merged, original + 0.5 * delta, atol=tolerance * np.abs(original + 0.5 * delta).max())
    for name in ("blk.0.attn_k.weight", "blk.0.attn_norm.weight"):
        assert after[name].tensor_type == before[name].tensor_type
        assert after[name].data.tobytes() == before[name].data.tobytes()
    assert [t.name for t in reader.tensors] == [t.name for t in gguf.GGUFReader(base).tensors]
    assert reader.get_field("general.name").contents() == "Tiny (distilled)"
    assert reader.get_field("qwen2.block_count").contents() == 1
    assert reader.get_field("tokenizer.ggml.tokens").contents() == ["a", "b", "c"]
    assert reader.get_field("general.architecture").contents() == "qwen2"


def test_lambda_zero_writes_the_original_weights(base, tmp_path):
    summary = merge_gguf(base, tmp_path / "zero.gguf", _deltas(), 0.0, "f16")
    _, before = _tensors(base)
    _, after = _tensors(summary.path)
    original = gguf.quants.dequantize(before["blk.0.attn_q.weight"].data, Q8_0)
    np.testing.assert_allclose(gguf.quants.dequantize(after["blk.0.attn_q.weight"].data,
                                                      gguf.GGMLQuantizationType.F16), original, atol=2e-3)


def test_the_base_file_is_never_the_output_and_is_left_unchanged(base, tmp_path):
    before = base.read_bytes()
    with pytest.raises(CodequorumError, match="refusing to overwrite"):
        merge_gguf(base, base, _deltas(), 1.0)
    merge_gguf(base, tmp_path / "merged.gguf", _deltas(), 1.0)
    assert base.read_bytes() == before
    assert not list(tmp_path.glob(".*partial"))


def test_a_delta_of_the_wrong_shape_or_an_unknown_tensor_is_an_error(base, tmp_path):
    with pytest.raises(CodequorumError, match="another model"):
        merge_gguf(base, tmp_path / "m.gguf", {"blk.0.attn_q.weight": np.zeros((64, 8), np.float32)}, 1.0)
    assert not (tmp_path / "m.gguf").exists() and not list(tmp_path.glob(".*partial"))
    with pytest.raises(CodequorumError, match="does not have"):
        merge_gguf(base, tmp_path / "m.gguf", {"blk.9.attn_q.weight": np.zeros((8, 64), np.float32)}, 1.0)


def test_progress_is_told_once_per_tensor(base, tmp_path):
    from codequorum.distill.gguf_merge import tensor_count

    calls = []
    merge_gguf(base, tmp_path / "m.gguf", _deltas(), 1.0, advance=lambda: calls.append(1))
    assert len(calls) == tensor_count(base) == 4
