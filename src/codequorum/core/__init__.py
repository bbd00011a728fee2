"""Model-independent types and the engine that runs a strategy."""

from codequorum.core.candidate import Candidate
from codequorum.core.request import Budget, ContextSnippet, Request, TaskKind
from codequorum.core.result import MemberCall, Result, Trace

__all__ = [
    "Budget",
    "Candidate",
    "ContextSnippet",
    "MemberCall",
    "Request",
    "Result",
    "TaskKind",
    "Trace",
]
