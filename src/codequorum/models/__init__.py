"""The embedded default models: pinned PyPI packages, assembled and verified in a cache."""
