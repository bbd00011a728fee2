"""`codequorum distill` end to end on the real Qwen2.5-Coder members, at a tiny size: six
verified HumanEval answers of the shipped collection, asked in both forms (the bench's chat
prompt, and a gap cut from the answer asked as an editor asks), the 1.5B as teacher, rank 2,
two steps.

Checked: the merged GGUF loads in the llama.cpp backend and answers; the member it is
registered as runs from the configuration; the original file is untouched; a merge at λ = 0
gives the original's greedy output; and the tensors the merge changes are, by our names and
orientation, the weights transformers trains (no permutation for qwen2). Needs the `distill`
extra (peft) and the `local` extra; 10 min 42 s here on 2 cores shared at load 6-9.
"""

from __future__ import annotations

import json
import tomllib
from pathlib import Path

import numpy as np
import pytest

from codequorum.config import load_settings, settings_from_dict
from codequorum.core.prompts import build_prompt
from codequorum.core.runtime import Runtime
from codequorum.distill.gguf_merge import merge_gguf
from codequorum.distill.task_vector import GGUF_NAMES, read_adapter
from codequorum.distill.train import checkpoints
from codequorum.models.store import ModelStatus, ModelStore, sha256_of
from codequorum.plugins.backends.llama_cpp import LlamaCppBackend
from codequorum.vocabulary.cancel import CancelToken
from codequorum.vocabulary.generation import GenerationParams
from codequorum.vocabulary.request import Request, TaskKind
from tests.e2e.conftest import ROOT, run_cli

pytestmark = pytest.mark.e2e

ASK = build_prompt(Request(TaskKind.GENERATE, language="python",
                           instruction="Write a Python function add(a, b) that returns a + b."), None)
GREEDY = GenerationParams(max_tokens=32)


@pytest.fixture(scope="module")
def store() -> ModelStore:
    store = ModelStore()
    missing = [m for m in ("qwen2.5-coder-0.5b", "qwen2.5-coder-1.5b") if store.state(m).status is not ModelStatus.INSTALLED]
    if missing:
        pytest.fail(f"embedded models {missing} are not installed: run `codequorum models install`")
    return store


@pytest.fixture(scope="module")
def run(store, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("distill")
    config = out / "config.toml"
    config.write_text("[server]\nfeedback_keep_text = true\n")
    done = run_cli("distill", "--collection", str(ROOT / "data/humaneval-greedy.jsonl.gz"),
                   "--problems-half", "even", "--forms", "chat,fim", "--teachers", "qwen-large",
                   "--max-examples", "6",
                   "--validation-share", "0.3", "--max-length", "448", "--rank", "2", "--steps", "2",
                   "--accumulate", "1", "--checkpoint-every", "1", "--top-k", "8", "--lambdas", "0,1",
                   "--threads", "2", "--register", "--config", str(config), "--out", str(out / "run"),
                   timeout=1800)
    assert done.returncode == 0, done.stderr + done.stdout
    return out


def test_what_generate_verified_is_trained_on(store, tmp_path):
    """A real `generate --tests-file` keeps its passing answer; `distill --verified-log` trains
    on it alone, asked both ways (λ = 1: no teacher, one step)."""
    config, log = tmp_path / "config.toml", tmp_path / "verified.jsonl"
    config.write_text(f'[distill]\nverified_log = "{log}"\n')
    done = run_cli("generate", "-i", "Write a Python function add(a, b) that returns a + b.",
                   "--tests-file", str(ROOT / "examples/add_tests.py"), "--member", "qwen-small",
                   "--max-tokens", "80", "--config", str(config))
    assert done.returncode == 0 and log.is_file(), done.stderr
    done = run_cli("distill", "--verified", "--forms", "chat,fim", "--ce-weight", "1", "--rank", "2",
                   "--steps", "1", "--accumulate", "1", "--validation-share", "0", "--merge-lambda", "1",
                   "--merged-type", "q8_0", "--config", str(config), "--out", str(tmp_path / "run"), timeout=900)
    assert done.returncode == 0, done.stderr + done.stdout
    report = json.loads((tmp_path / "run" / "report.json").read_text())
    assert report["sources"] == {"verified": 2} and report["asked_as"] == {"chat": 1, "fim": 1}
    assert report["steps"] == 1 and Path(report["merged"]).is_file()


def _answer(member_config, runtime) -> str:
    import asyncio

    backend = LlamaCppBackend(member_config, runtime)
    try:
        [sample] = asyncio.run(backend.generate(ASK, GREEDY, CancelToken()))
    finally:
        asyncio.run(backend.aclose())
    return sample.text


def test_the_run_reports_every_stage_and_leaves_the_original_intact(run, store):
    report = json.loads((run / "run" / "report.json").read_text())
    assert report["steps"] == 2 and report["examples"]["training"] >= 1
    assert set(report["seconds"]) == {"examples", "teachers", "load student", "training", "validation", "merge"}
    assert report["teacher_examples_computed"]["qwen-large"] == report["examples"]["training"]
    assert report["asked_as"]["chat"] >= 1 and report["asked_as"]["fim"] >= 1  # the seeded draw takes both
    assert list(report["sources"]) == ["collection"]
    assert [p["merge_lambda"] for p in report["lambda_curve"]] in ([0.0, 1.0], [])
    merged = Path(report["merged"])
    assert merged.parent == run / "run" and merged.name == "qwen-small-distilled.gguf"
    assert sha256_of(merged) == report["sha256"] == (merged.parent / (merged.name + ".sha256")).read_text().split()[0]
    assert store.state("qwen2.5-coder-0.5b", full_check=True).status is ModelStatus.INSTALLED
    evaluation = [json.loads(line)["id"] for line in (run / "run" / "evaluation-problems.jsonl").read_text().splitlines()]
    assert len(evaluation) == 82 and all(int(i.split("/")[1]) % 2 == 1 for i in evaluation)


def test_the_registered_member_loads_in_llama_cpp_and_answers(run):
    settings = load_settings(run / "config.toml")
    member = settings.members["qwen-small-distilled"]
    assert member.backend == "llama-cpp" and member.fim == "qwen" and "qwen-small" in settings.members
    text = _answer(member, Runtime.create(settings))
    assert "def add" in text


def test_a_merge_at_lambda_zero_gives_the_originals_greedy_output(run, store):
    adapter = checkpoints(run / "run" / "checkpoints")[-1]
    base = store.verified_path("qwen2.5-coder-0.5b")
    zero = merge_gguf(base, run / "zero.gguf", read_adapter(adapter), 0.0, "f16").path
    settings = settings_from_dict({"members": {"zero": {"path": str(zero), "fim": "qwen"}}}, source="test")
    runtime = Runtime.create(settings)
    assert _answer(settings.members["zero"], runtime) == _answer(settings.members["qwen-small"], runtime)


def test_merged_tensors_are_the_weights_transformers_trains(run, store):
    """gguf-py's [out, in] tensor under our name is the Hugging Face weight the LoRA adapts."""
    import gguf
    from transformers import AutoModelForCausalLM

    base = store.verified_path("qwen2.5-coder-0.5b")
    model = AutoModelForCausalLM.from_pretrained(str(base.parent), gguf_file=base.name, dtype="float32")
    weights = model.state_dict()
    tensors = {t.name: t for t in gguf.GGUFReader(base).tensors}
    for layer in (0, model.config.num_hidden_layers - 1):
        for module, short in GGUF_NAMES.items():
            tensor = tensors[f"blk.{layer}.{short}.weight"]
            ours = gguf.quants.dequantize(tensor.data, tensor.tensor_type)
            np.testing.assert_array_equal(ours, weights[f"model.layers.{layer}.{module}.weight"].numpy())
    deltas = read_adapter(checkpoints(run / "run" / "checkpoints")[-1])
    assert len(deltas) == 7 * model.config.num_hidden_layers
    assert all(deltas[name].shape == tuple(int(d) for d in reversed(tensors[name].shape)) for name in deltas)
    assert tomllib.loads((run / "run" / "member.toml").read_text())["members"]["qwen-small-distilled"]
