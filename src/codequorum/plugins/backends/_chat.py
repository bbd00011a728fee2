"""Chat messages as the OpenAI API and Hugging Face chat templates take them."""

from __future__ import annotations

from codequorum.vocabulary.generation import Prompt


def chat_messages(prompt: Prompt, merge_system: bool = False) -> list[dict[str, str]]:
    """`{"role", "content"}` dicts; with `merge_system`, system text opens the first user turn.

    Some chat templates (Mixtral's, Gemma's) refuse a system role and make the server answer
    HTTP 400; members on such models set `options.merge_system = true`.
    """
    messages = [{"role": m.role, "content": m.content} for m in prompt.messages]
    if not merge_system:
        return messages
    system = "\n\n".join(m["content"] for m in messages if m["role"] == "system")
    rest = [m for m in messages if m["role"] != "system"]
    if system and rest and rest[0]["role"] == "user":
        rest[0] = {"role": "user", "content": f"{system}\n\n{rest[0]['content']}"}
    elif system:
        rest.insert(0, {"role": "user", "content": system})
    return rest
