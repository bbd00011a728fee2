"""The engine that runs a strategy: members, their guards and memo, the strategy context."""
