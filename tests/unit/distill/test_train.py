"""The training loop, λ scaling and the task vector on a tiny random Qwen2 with a real peft
LoRA: what the real run does, at a size that trains in a second."""

import json

import numpy as np
import pytest
import torch

def _need(name):
    try:
        return __import__(name)
    except ImportError:
        pytest.fail(f"these tests need {name}: pip install -e '.[distill]'")


transformers = _need("transformers")
_need("peft")

from codequorum.distill.encode import EncodedExample  # noqa: E402
from codequorum.distill.fusion import FusedTarget  # noqa: E402
from codequorum.distill.student import LoraShape, Student  # noqa: E402
from codequorum.distill.task_vector import read_adapter  # noqa: E402
from codequorum.distill.train import TrainSettings, checkpoints, train  # noqa: E402
from codequorum.distill.task_vector import gguf_name  # noqa: E402
from codequorum.distill.validation import LambdaPoint, answer_cross_entropy, best_lambda, lambda_curve  # noqa: E402

VOCAB = 48


def _student(seed: int = 0) -> Student:
    import peft as peft_module

    torch.manual_seed(seed)
    config = transformers.Qwen2Config(vocab_size=VOCAB, hidden_size=32, intermediate_size=64, num_hidden_layers=2,
                                      num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=64,
                                      tie_word_embeddings=False)
    model = transformers.Qwen2ForCausalLM(config)
    shape = LoraShape(rank=2, alpha=4.0)
    lora = peft_module.LoraConfig(r=shape.rank, lora_alpha=shape.alpha, lora_dropout=0.0, bias="none",
                                  target_modules=list(shape.targets), task_type="CAUSAL_LM", init_lora_weights=True)
    return Student(peft_module.get_peft_model(model, lora), tokenizer=None, device="cpu")


EXAMPLES = [EncodedExample(f"k{i}", tuple(int(t) for t in np.random.default_rng(i).integers(0, VOCAB, 12)), 6)
            for i in range(3)]
TARGETS = [FusedTarget(np.tile(np.arange(4), (6, 1)), np.full((6, 4), 0.25, np.float32)) for _ in EXAMPLES]
SETTINGS = TrainSettings(steps=6, accumulate=2, learning_rate=1e-2, ce_weight=0.5, checkpoint_every=2)


def _adapter_tensors(directory):
    from safetensors.numpy import load_file

    return load_file(str(checkpoints(directory)[-1] / "adapter_model.safetensors"))


def test_training_lowers_the_loss_and_keeps_the_last_checkpoints(tmp_path):
    student = _student()
    before = answer_cross_entropy(student, EXAMPLES)
    state = train(student, EXAMPLES, [None] * 3, TrainSettings(steps=6, accumulate=3, learning_rate=3e-2,
                                                              ce_weight=1.0, checkpoint_every=2), tmp_path)
    assert state.step == 6 and len(state.log) == 6
    assert answer_cross_entropy(student, EXAMPLES) < before
    assert [p.name for p in checkpoints(tmp_path)] == ["step-000004", "step-000006"]


def test_an_interrupted_run_resumes_to_the_same_adapter(tmp_path):
    whole = _student()
    train(whole, EXAMPLES, TARGETS, SETTINGS, tmp_path / "whole")
    interrupted = _student()
    train(interrupted, EXAMPLES, TARGETS, TrainSettings(**{**SETTINGS.__dict__, "steps": 4}), tmp_path / "resumed")
    resumed = _student()  # a fresh process: the adapter and optimizer come from the checkpoint
    state = train(resumed, EXAMPLES, TARGETS, SETTINGS, tmp_path / "resumed")
    assert state.step == 6 and [s.step for s in state.log] == [1, 2, 3, 4, 5, 6]
    a, b = _adapter_tensors(tmp_path / "whole"), _adapter_tensors(tmp_path / "resumed")
    assert a.keys() == b.keys()
    for key in a:
        np.testing.assert_allclose(a[key], b[key], rtol=1e-4, atol=1e-6)


def test_the_task_vector_is_what_peft_itself_merges(tmp_path):
    student = _student()
    train(student, EXAMPLES, TARGETS, SETTINGS, tmp_path)
    deltas = read_adapter(checkpoints(tmp_path)[-1])
    base = {k: v.detach().clone() for k, v in student.model.get_base_model().state_dict().items()
            if ".base_layer.weight" in k}
    merged = student.model.merge_and_unload().state_dict()
    assert len(deltas) == 2 * 7
    for key, weight in base.items():
        layer = key.split(".layers.")[1].split(".")[0]
        module = key.split(f".layers.{layer}.")[1].removesuffix(".base_layer.weight")
        name = gguf_name(int(layer), module)
        hf_key = key.replace(".base_layer.weight", ".weight")
        np.testing.assert_allclose(merged[hf_key].numpy() - weight.numpy(), deltas[name], atol=1e-6)


def test_lambda_zero_is_the_base_model_and_the_curve_picks_its_lowest_point(tmp_path):
    student = _student()
    base_loss = answer_cross_entropy(student, EXAMPLES)
    train(student, EXAMPLES, [None] * 3, TrainSettings(steps=4, accumulate=3, learning_rate=3e-2, ce_weight=1.0,
                                                      checkpoint_every=4), tmp_path)
    curve = lambda_curve(student, EXAMPLES, (0.0, 0.5, 1.0))
    assert curve[0].cross_entropy == pytest.approx(base_loss, rel=1e-5)
    assert curve[2].cross_entropy < curve[0].cross_entropy
    assert answer_cross_entropy(student, EXAMPLES) == pytest.approx(curve[2].cross_entropy, rel=1e-5)  # restored
    assert best_lambda(curve) == min(curve, key=lambda p: p.cross_entropy).merge_lambda
    assert best_lambda([LambdaPoint(0.5, 1.0), LambdaPoint(1.0, 1.0)]) == 0.5
    json.dumps([p.__dict__ for p in curve])


def test_checkpoints_of_another_run_are_refused_not_resumed(tmp_path):
    from codequorum.vocabulary.errors import CodequorumError

    short = TrainSettings(steps=1, accumulate=1, checkpoint_every=1)
    train(_student(), EXAMPLES, TARGETS, short, tmp_path, run_key="first")
    with pytest.raises(CodequorumError, match="another run"):
        train(_student(), EXAMPLES, TARGETS, short, tmp_path, run_key="second")
    more = train(_student(), EXAMPLES, TARGETS, TrainSettings(steps=2, accumulate=1, checkpoint_every=1), tmp_path,
                 run_key="first")
    assert more.step == 2
