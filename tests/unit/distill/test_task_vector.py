import json

import numpy as np
import pytest
from safetensors.numpy import save_file

from codequorum.distill.task_vector import AdapterShape, gguf_name, read_adapter, task_vector
from codequorum.vocabulary.errors import CodequorumError


def test_hugging_face_modules_map_to_llama_cpp_tensor_names():
    assert gguf_name(0, "self_attn.q_proj") == "blk.0.attn_q.weight"
    assert gguf_name(3, "self_attn.k_proj") == "blk.3.attn_k.weight"
    assert gguf_name(3, "self_attn.v_proj") == "blk.3.attn_v.weight"
    assert gguf_name(23, "self_attn.o_proj") == "blk.23.attn_output.weight"
    assert gguf_name(1, "mlp.gate_proj") == "blk.1.ffn_gate.weight"
    assert gguf_name(1, "mlp.up_proj") == "blk.1.ffn_up.weight"
    assert gguf_name(1, "mlp.down_proj") == "blk.1.ffn_down.weight"
    with pytest.raises(CodequorumError, match="lm_head"):
        gguf_name(0, "lm_head")


def _lora(seed: int = 0) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    prefix = "base_model.model.model.layers.2.self_attn.q_proj"
    return {f"{prefix}.lora_A.weight": rng.normal(size=(2, 5)).astype(np.float32),  # [r, in]
            f"{prefix}.lora_B.weight": rng.normal(size=(3, 2)).astype(np.float32)}  # [out, r]


def test_the_delta_is_scaling_times_b_at_a_in_out_by_in_orientation():
    lora = _lora()
    [(name, delta)] = task_vector(lora, AdapterShape(rank=2, alpha=8.0)).items()
    a, b = lora[next(k for k in lora if "lora_A" in k)], lora[next(k for k in lora if "lora_B" in k)]
    assert name == "blk.2.attn_q.weight"
    assert delta.shape == (3, 5)
    np.testing.assert_allclose(delta, 4.0 * b @ a, rtol=1e-6)


def test_rslora_scales_by_the_square_root_of_the_rank():
    assert AdapterShape(rank=4, alpha=8.0, rslora=True).scaling == pytest.approx(4.0)
    assert AdapterShape(rank=4, alpha=8.0).scaling == pytest.approx(2.0)


def test_a_half_pair_or_a_foreign_tensor_is_an_error():
    lora = _lora()
    with pytest.raises(CodequorumError, match="only lora_A"):
        task_vector({k: v for k, v in lora.items() if "lora_A" in k}, AdapterShape(2, 4.0))
    with pytest.raises(CodequorumError, match="unexpected tensor"):
        task_vector({**lora, "base_model.model.lm_head.weight": np.zeros((1, 1))}, AdapterShape(2, 4.0))


def test_read_adapter_from_a_peft_folder(tmp_path):
    save_file(_lora(), str(tmp_path / "adapter_model.safetensors"))
    (tmp_path / "adapter_config.json").write_text(json.dumps({"r": 2, "lora_alpha": 4, "use_rslora": False}))
    deltas = read_adapter(tmp_path)
    assert list(deltas) == ["blk.2.attn_q.weight"]
    np.testing.assert_allclose(deltas["blk.2.attn_q.weight"], task_vector(_lora(), AdapterShape(2, 4.0))["blk.2.attn_q.weight"])
