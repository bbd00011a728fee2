"""The trained listwise ranker at inference time: a tiny MLP over FEATURES, in numpy.

Training (torch, ListNet loss, k-fold by problem) lives in scripts/train_ranker.py; it writes
the weights as JSON next to this module, so serving needs no torch.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import numpy as np

from codequorum.ranking.features import FEATURES

WEIGHTS_FILE = "listwise_weights.json"


@dataclass(frozen=True)
class ListwiseRanker:
    hidden_w: np.ndarray  # (features, hidden)
    hidden_b: np.ndarray  # (hidden,)
    out_w: np.ndarray  # (hidden,)
    out_b: float
    features: tuple[str, ...] = FEATURES

    def scores(self, matrix: np.ndarray) -> np.ndarray:
        hidden = np.maximum(matrix @ self.hidden_w + self.hidden_b, 0.0)
        return hidden @ self.out_w + self.out_b

    def to_json(self) -> dict[str, object]:
        return {"features": list(self.features), "hidden_w": self.hidden_w.tolist(),
                "hidden_b": self.hidden_b.tolist(), "out_w": self.out_w.tolist(),
                "out_b": self.out_b}

    @classmethod
    def from_json(cls, data: dict[str, object]) -> ListwiseRanker:
        features = tuple(data["features"])  # type: ignore[arg-type]
        if features != FEATURES:
            raise ValueError(f"ranker was trained on features {features}, code has {FEATURES}")
        return cls(np.asarray(data["hidden_w"], dtype=np.float32),
                   np.asarray(data["hidden_b"], dtype=np.float32),
                   np.asarray(data["out_w"], dtype=np.float32), float(data["out_b"]))  # type: ignore[arg-type]


def load_ranker(path: Path | None = None) -> ListwiseRanker | None:
    """The shipped ranker (or one at `path`); None when there is none or it does not fit."""
    try:
        text = path.read_text() if path else resources.files("codequorum.ranking").joinpath(WEIGHTS_FILE).read_text()
        return ListwiseRanker.from_json(json.loads(text))
    except (OSError, ValueError, KeyError, TypeError):
        return None
