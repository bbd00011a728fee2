"""The protocol layer: one module per LSP feature, each registering its handlers."""
