"""Ordering candidates: agreement signals, evidence scores and (later) the listwise ranker."""
