"""codequorum/feedback: the client reports what the user did with a suggestion."""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from codequorum.server.extensions import FEEDBACK_NOTIFICATION, FeedbackParams, plain
from codequorum.server.lsp_server import CodequorumServer


def register(server: CodequorumServer) -> None:
    server.feature(FEEDBACK_NOTIFICATION)(feedback)


def feedback(ls: CodequorumServer, params: Any) -> None:
    try:
        event = FeedbackParams.model_validate(plain(params))
    except ValidationError as error:
        ls.log_warning(f"ignored {FEEDBACK_NOTIFICATION}: expected {{id, event: shown|accepted|dismissed}} "
                       f"or {{id, event: accepted_partial, accepted_chars}}: "
                       f"{error.errors()[0]['msg']}")
        return
    if not ls.session.record_feedback(event.id, event.event, event.accepted_chars):
        ls.log_warning(f"ignored {FEEDBACK_NOTIFICATION} for unknown suggestion {event.id!r}")
