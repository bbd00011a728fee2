"""The OpenAI-compatible backend against an in-memory server (httpx.MockTransport).

Its end-to-end twin, tests/e2e/test_openai_backend_llama_server.py, talks to a real
llama.cpp server; here each protocol case and failure is pinned down quickly.
"""

import asyncio
import json

import httpx
import pytest

from codequorum.config import settings_from_dict
from codequorum.core.resilience import RejectedRequest, TransientError
from codequorum.plugins.backends.openai_compat import OpenAICompatBackend
from codequorum.plugins.backends.openai_wire import MalformedResponse
from codequorum.vocabulary.cancel import CancelToken
from codequorum.vocabulary.errors import MemberError
from codequorum.vocabulary.generation import ChatMessage, GenerationParams, Prompt

FIM = Prompt(kind="fim", text="<|fim_prefix|>def f():<|fim_suffix|>\n<|fim_middle|>")
CHAT = Prompt(kind="chat", messages=(ChatMessage("user", "hello"),))


def member(**fields):
    values = {"backend": "openai", "base_url": "http://gpu-1:8000/v1", "model": "coder"} | fields
    return settings_from_dict({"include_default_members": False, "members": {"remote": values}},
                              source="test").members["remote"]


def sse(*chunks, done=True) -> bytes:
    events = [f"data: {json.dumps(c)}\n\n" for c in chunks] + (["data: [DONE]\n\n"] if done else [])
    return (": ping\n\n" + "".join(events)).encode()


def text_chunk(text, logprob=None, finish=None):
    logprobs = {"token_logprobs": [logprob], "tokens": [text]} if logprob is not None else None
    return {"choices": [{"index": 0, "text": text, "logprobs": logprobs, "finish_reason": finish}]}


class Server:
    """Answers every request with `reply(request)`; remembers the requests."""

    def __init__(self, reply):
        self.reply = reply
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        return self.reply(request)

    def bodies(self):
        return [json.loads(r.content) for r in self.requests]


def streaming(body: bytes, status=200):
    return lambda request: httpx.Response(status, content=body,
                                          headers={"content-type": "text/event-stream"})


def backend(server, **fields) -> OpenAICompatBackend:
    return OpenAICompatBackend(member(**fields), runtime=None, transport=httpx.MockTransport(server))


async def generate(b, prompt=FIM, **params):
    return await b.generate(prompt, GenerationParams(**({"max_tokens": 16} | params)), CancelToken())


async def test_fim_streams_raw_text_to_completions_with_logprobs_and_usage():
    server = Server(streaming(sse(
        text_chunk("    return", -0.5), text_chunk(" 1", -1.5), text_chunk("", finish="length"),
        {"choices": [], "usage": {"prompt_tokens": 12, "completion_tokens": 2}},
    )))
    [sample] = await generate(backend(server), stop=("#1", "#2", "#3", "#4", "#5"), seed=7)
    assert (sample.text, sample.tokens, sample.prompt_tokens) == ("    return 1", 2, 12)
    assert sample.mean_logprob == pytest.approx(-1.0) and sample.finish_reason == "length"
    [request] = server.requests
    assert str(request.url) == "http://gpu-1:8000/v1/completions"
    body = server.bodies()[0]
    assert body["prompt"] == FIM.text and body["model"] == "coder" and body["stream"] is True
    assert body["stop"] == ["#1", "#2", "#3", "#4"] and body["seed"] == 7 and body["logprobs"] == 1


async def test_chat_goes_to_chat_completions_and_reads_deltas():
    server = Server(streaming(sse(
        {"choices": [{"delta": {"role": "assistant"}}]},
        {"choices": [{"delta": {"content": "Hi"},
                      "logprobs": {"content": [{"token": "Hi", "logprob": -0.25}]}}]},
        {"choices": [{"delta": {}, "finish_reason": "stop"}]},
    )))
    [sample] = await generate(backend(server), prompt=CHAT)
    assert (sample.text, sample.tokens, sample.mean_logprob) == ("Hi", 1, -0.25)
    assert server.requests[0].url.path == "/v1/chat/completions"
    assert server.bodies()[0]["messages"] == [{"role": "user", "content": "hello"}]


async def test_a_stop_string_ends_the_sample_without_reading_the_rest():
    server = Server(streaming(sse(text_chunk("x = 1\n"), text_chunk("STOP here"), {"garbage": True})))
    [sample] = await generate(backend(server), stop=("STOP",))
    assert sample.text == "x = 1\n" and sample.finish_reason == "stop"


async def test_stop_at_rule_cuts_the_text():
    server = Server(streaming(sse(text_chunk("abc"), text_chunk("def"), text_chunk("", finish="stop"))))
    [sample] = await generate(backend(server), stop_at=lambda text: 4 if len(text) > 4 else None)
    assert sample.text == "abcd"


async def test_n_samples_are_requests_with_consecutive_seeds():
    server = Server(streaming(sse(text_chunk("x", finish="stop"))))
    samples = await generate(backend(server), n=3, seed=10)
    assert len(samples) == 3 and [b["seed"] for b in server.bodies()] == [10, 11, 12]


async def test_a_cancelled_token_stops_reading():
    server = Server(streaming(sse(text_chunk("a"), text_chunk("b"))))
    cancel = CancelToken()
    cancel.cancel()
    samples = await backend(server).generate(FIM, GenerationParams(max_tokens=8), cancel)
    assert samples == [] and server.requests == []


async def test_a_server_that_ignores_stream_may_answer_in_one_piece():
    answer = {"choices": [{"text": "y = 2", "finish_reason": "stop"}],
              "usage": {"prompt_tokens": 3, "completion_tokens": 4}}
    server = Server(lambda request: httpx.Response(200, json=answer))
    [sample] = await generate(backend(server))
    assert (sample.text, sample.tokens, sample.prompt_tokens) == ("y = 2", 4, 3)


@pytest.mark.parametrize(("reply", "message"), [
    (lambda r: httpx.Response(200, content=b'{"choices": [{"te',
                              headers={"content-type": "application/json"}),
     "malformed response: not JSON"),
    (lambda r: httpx.Response(200, json={"id": "x"}), "malformed response: choices: Field required"),
    (lambda r: httpx.Response(200, json={"choices": [{"index": 0}]}), "no choices[0].text"),
    (streaming(sse({"choices": [{"text": 5}]})), "malformed response: choices.0.text"),
    (streaming(b"data: <html>oops</html>\n\n"), "not JSON: '<html>oops</html>'"),
])
async def test_malformed_answers_are_clear_member_errors(reply, message):
    with pytest.raises(MalformedResponse, match=message.replace("[", r"\[").replace("(", r"\(")) as caught:
        await generate(backend(Server(reply)))
    assert "member remote (http://gpu-1:8000/v1)" in str(caught.value)


async def test_an_error_object_in_the_stream_is_reported():
    server = Server(streaming(sse({"error": {"message": "CUDA out of memory"}})))
    with pytest.raises(MemberError, match="server reported an error: CUDA out of memory"):
        await generate(backend(server))


async def test_a_stream_cut_short_is_transient():
    server = Server(streaming(sse(text_chunk("half"), done=False)))
    with pytest.raises(TransientError, match="stream ended before the answer was complete"):
        await generate(backend(server))


@pytest.mark.parametrize(("status", "kind", "hint"), [
    (503, TransientError, "HTTP 503: busy"),
    (429, TransientError, "HTTP 429"),
    (400, RejectedRequest, "HTTP 400: busy"),
    (401, MemberError, "check api_key_env"),
    (404, MemberError, "check base_url"),
])
async def test_http_errors_are_sorted_by_what_a_retry_could_change(status, kind, hint):
    server = Server(lambda request: httpx.Response(status, text="busy"))
    with pytest.raises(kind, match=hint) as caught:
        await generate(backend(server))
    assert type(caught.value) is kind


async def test_transport_failures_are_transient_and_say_where():
    def refuse(request):
        try:
            raise ConnectionRefusedError(111, "Connection refused")
        except OSError as error:  # httpx hides the reason under "All connection attempts failed"
            raise httpx.ConnectError("All connection attempts failed") from error

    with pytest.raises(TransientError, match="cannot connect to http://gpu-1:8000/v1: Connection refused$"):
        await generate(backend(Server(refuse)))


async def test_read_timeout_names_the_setting():
    def stall(request):
        raise httpx.ReadTimeout("timed out")

    with pytest.raises(TransientError, match=r"no data from .* for 1.5s \(read_timeout_s\)"):
        await generate(backend(Server(stall), read_timeout_s=1.5))


def test_the_api_key_comes_from_the_named_environment_variable(monkeypatch):
    monkeypatch.delenv("CQ_TEST_KEY", raising=False)
    with pytest.raises(MemberError, match="environment variable CQ_TEST_KEY .* is not set"):
        backend(Server(streaming(b"")), api_key_env="CQ_TEST_KEY")


async def test_the_api_key_is_sent_as_a_bearer_token(monkeypatch):
    monkeypatch.setenv("CQ_TEST_KEY", "sekrit")
    server = Server(streaming(sse(text_chunk("x", finish="stop"))))
    await generate(backend(server, api_key_env="CQ_TEST_KEY"))
    assert server.requests[0].headers["authorization"] == "Bearer sekrit"


async def test_extra_body_and_logprobs_options_shape_the_request():
    server = Server(streaming(sse(text_chunk("x", finish="stop"))))
    b = backend(server, options={"extra_body": {"top_k": 20}, "logprobs": False})
    await generate(b, prompt=CHAT)
    body = server.bodies()[0]
    assert body["top_k"] == 20 and body["logprobs"] is False


async def test_merge_system_folds_the_system_message_into_the_first_user_turn():
    server = Server(streaming(sse(text_chunk("x", finish="stop"))))
    prompt = Prompt(kind="chat", messages=(ChatMessage("system", "Be brief."), ChatMessage("user", "hello")))
    await generate(backend(server, options={"merge_system": True}), prompt=prompt)
    assert server.bodies()[0]["messages"] == [{"role": "user", "content": "Be brief.\n\nhello"}]


async def test_the_token_stops_a_stalled_stream_at_once_and_closes_it():
    closed = asyncio.Event()

    class Stalled(httpx.AsyncByteStream):
        async def __aiter__(self):
            yield sse(text_chunk("x"), done=False)
            await asyncio.Event().wait()  # the server goes quiet

        async def aclose(self):
            closed.set()

    server = Server(lambda request: httpx.Response(
        200, headers={"content-type": "text/event-stream"}, stream=Stalled()))
    cancel = CancelToken()
    running = asyncio.create_task(backend(server).generate(FIM, GenerationParams(max_tokens=8), cancel))
    await asyncio.sleep(0.1)
    cancel.cancel()
    [sample] = await asyncio.wait_for(running, timeout=1)
    assert (sample.text, sample.finish_reason) == ("x", "cancelled") and closed.is_set()
