"""A tiny calculator with one bug on purpose: the README's `codequorum fix` examples repair it."""
