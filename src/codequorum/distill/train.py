"""The LoRA training loop: one example at a time, gradients accumulated, the adapter and the
optimizer checkpointed every N steps so that an interrupted run resumes at its last checkpoint."""

from __future__ import annotations

import json
import random
import shutil
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

import torch

from codequorum.distill.encode import EncodedExample
from codequorum.distill.fusion import FusedTarget
from codequorum.distill.loss import fusion_loss
from codequorum.distill.student import Student, answer_logits
from codequorum.vocabulary.errors import CodequorumError

KEEP_CHECKPOINTS = 2


@dataclass(frozen=True)
class TrainSettings:
    steps: int = 200
    accumulate: int = 4  # examples per optimizer step
    learning_rate: float = 2e-4
    ce_weight: float = 0.5  # λ of eq. 9: the verified answer's share, the rest is the teachers'
    checkpoint_every: int = 25
    seed: int = 0


@dataclass
class StepLog:
    step: int
    loss: float
    cross_entropy: float
    kl: float


@dataclass
class TrainState:
    step: int = 0
    log: list[StepLog] = field(default_factory=list)


StepDone = Callable[[StepLog], None]


def train(student: Student, examples: Sequence[EncodedExample], targets: Sequence[FusedTarget | None],
          settings: TrainSettings, directory: Path, on_step: StepDone = lambda _log: None,
          run_key: str = "") -> TrainState:
    """Train to `settings.steps` steps, from the last checkpoint in `directory` if there is one.
    `run_key` names what the checkpoints were trained on: a directory of another run is refused
    rather than resumed (more steps of the same run are fine)."""
    if not examples:
        raise ValueError("no training examples")
    _claim(directory, run_key)
    model = student.model
    optimizer = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=settings.learning_rate)
    state = _resume(student, optimizer, directory)
    order = _order(len(examples), settings.seed)
    model.train()
    while state.step < settings.steps:
        optimizer.zero_grad(set_to_none=True)
        parts = [_backward(student, examples[i], targets[i], settings) for i in _batch(order, state.step, settings)]
        optimizer.step()
        state.step += 1
        log = StepLog(state.step, *(sum(p[j] for p in parts) / len(parts) for j in range(3)))
        state.log.append(log)
        on_step(log)
        if state.step % settings.checkpoint_every == 0 or state.step == settings.steps:
            _checkpoint(student, optimizer, state, directory)
    model.eval()
    return state


def _backward(student: Student, example: EncodedExample, target: FusedTarget | None,
              settings: TrainSettings) -> tuple[float, float, float]:
    ids = torch.tensor(example.ids, device=student.device)
    logits = answer_logits(student, ids, example.answer_start)
    indices = probs = None
    if target is not None:
        indices = torch.from_numpy(target.indices).to(student.device)
        probs = torch.from_numpy(target.probs).to(student.device)
    parts = fusion_loss(logits, ids[example.answer_start:], indices, probs, settings.ce_weight)
    (parts.total / settings.accumulate).backward()
    return float(parts.total.detach()), parts.cross_entropy, parts.kl


def _order(count: int, seed: int) -> list[int]:
    order = list(range(count))
    random.Random(seed).shuffle(order)
    return order


def _batch(order: list[int], step: int, settings: TrainSettings) -> list[int]:
    """The examples of step `step`: the seeded order, cycled (the same on resume)."""
    start = step * settings.accumulate
    return [order[(start + j) % len(order)] for j in range(settings.accumulate)]


def _claim(directory: Path, run_key: str) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    marker = directory / "run.json"
    if marker.is_file():
        found = json.loads(marker.read_text(encoding="utf-8")).get("run_key")
        if found != run_key and checkpoints(directory):
            raise CodequorumError(
                f"{directory} holds checkpoints of another run (other examples, teachers or training "
                "settings): give another --out, or delete that folder to start again")
    marker.write_text(json.dumps({"run_key": run_key}), encoding="utf-8")


def checkpoints(directory: Path) -> list[Path]:
    return sorted(directory.glob("step-*"), key=lambda p: int(p.name.removeprefix("step-")))


def _checkpoint(student: Student, optimizer: torch.optim.Optimizer, state: TrainState, directory: Path) -> None:
    final = directory / f"step-{state.step:06d}"
    partial = directory / f".partial-step-{state.step:06d}"
    shutil.rmtree(partial, ignore_errors=True)
    student.model.save_pretrained(partial, save_embedding_layers=False)  # only the LoRA matrices
    torch.save(optimizer.state_dict(), partial / "optimizer.pt")
    (partial / "state.json").write_text(json.dumps({"step": state.step, "log": [asdict(s) for s in state.log]}))
    shutil.rmtree(final, ignore_errors=True)
    partial.rename(final)  # a checkpoint is there whole or not at all
    for old in checkpoints(directory)[:-KEEP_CHECKPOINTS]:
        shutil.rmtree(old, ignore_errors=True)


def _resume(student: Student, optimizer: torch.optim.Optimizer, directory: Path) -> TrainState:
    directory.mkdir(parents=True, exist_ok=True)
    found = checkpoints(directory)
    if not found:
        return TrainState()
    from peft import set_peft_model_state_dict
    from safetensors.torch import load_file

    last = found[-1]
    set_peft_model_state_dict(student.model, load_file(str(last / "adapter_model.safetensors"),
                                                       device=student.device))
    optimizer.load_state_dict(torch.load(last / "optimizer.pt", map_location=student.device))
    saved = json.loads((last / "state.json").read_text())
    return TrainState(saved["step"], [StepLog(**s) for s in saved["log"]])


def latest_adapter(directory: Path) -> Path | None:
    found = checkpoints(directory)
    return found[-1] if found else None
