"""Overhead of the OpenAI-compatible path vs llama.cpp in process, for the same model.

Starts `python -m llama_cpp.server` on loopback (2 threads, like the in-process model), then
times the same greedy request through each backend, alternating so load from other processes
hits both alike. Prints the medians, the difference and the ratio.

    .venv/bin/python benchmarks/backend_overhead.py [--model smollm2-135m] [--runs 20] [--max-tokens 8]
"""

from __future__ import annotations

import argparse
import asyncio
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path

from _provenance import print_provenance  # benchmarks/, next to this script

from codequorum.config import settings_from_dict
from codequorum.core.runtime import Runtime
from codequorum.plugins.backends.llama_cpp import LlamaCppBackend
from codequorum.plugins.backends.openai_compat import OpenAICompatBackend
from codequorum.plugins.protocols import Backend
from codequorum.vocabulary.cancel import CancelToken
from codequorum.vocabulary.generation import ChatMessage, GenerationParams, Prompt

PROMPT = Prompt("chat", messages=(ChatMessage("user", "Write a Python function that adds two numbers."),))


def main() -> None:
    args = _parse()
    print_provenance()
    runtime = Runtime.create(settings_from_dict({}, source="benchmark"))
    model_path = runtime.models.verified_path(args.model)
    port = _free_port()
    server = _start_server(model_path, port)
    try:
        local, remote = asyncio.run(_measure(runtime, args, f"http://127.0.0.1:{port}/v1"))
    finally:
        server.kill()
        server.wait()
    local_ms, remote_ms = statistics.median(local) * 1000, statistics.median(remote) * 1000
    print(f"{args.model}, {args.max_tokens} tokens, greedy, median of {args.runs}:")
    print(f"  llama.cpp in process:          {local_ms:8.1f} ms")
    print(f"  OpenAI-compatible (loopback):  {remote_ms:8.1f} ms")
    print(f"  overhead: {remote_ms - local_ms:+.1f} ms per request, ratio {remote_ms / local_ms:.2f}x")


async def _measure(
    runtime: Runtime, args: argparse.Namespace, base_url: str
) -> tuple[list[float], list[float]]:
    settings = settings_from_dict({"include_default_members": False, "members": {
        "local": {"model": args.model, "n_threads": 2, "n_ctx": 2048},
        "remote": {"backend": "openai", "base_url": base_url, "model": args.model},
    }}, source="benchmark")
    local = LlamaCppBackend(settings.members["local"], runtime)
    remote = OpenAICompatBackend(settings.members["remote"], runtime)
    params = GenerationParams(max_tokens=args.max_tokens)
    for backend in (local, remote):  # load, and fill each side's prompt cache once
        await _time(backend, params)
    times: tuple[list[float], list[float]] = ([], [])
    for _ in range(args.runs):
        times[0].append(await _time(local, params))
        times[1].append(await _time(remote, params))
    await local.aclose()
    await remote.aclose()
    return times


async def _time(backend: Backend, params: GenerationParams) -> float:
    started = time.perf_counter()
    [sample] = await backend.generate(PROMPT, params, CancelToken())
    if sample.tokens != params.max_tokens:
        sys.exit(f"expected {params.max_tokens} tokens, got {sample.tokens}: use a smaller --max-tokens")
    return time.perf_counter() - started


def _start_server(model: Path, port: int) -> subprocess.Popen[bytes]:
    server = _spawn_server(model, port)
    _wait_ready(server, port)
    return server


def _spawn_server(model: Path, port: int) -> subprocess.Popen[bytes]:
    command = [sys.executable, "-m", "llama_cpp.server", "--model", str(model), "--host", "127.0.0.1",
               "--port", str(port), "--n_threads", "2"]
    return subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def _wait_ready(server: subprocess.Popen[bytes], port: int) -> None:
    """Until the server accepts connections (it loads the model first).

    A TCP connect, not an HTTP request: llama-cpp-python's server interrupts a running
    completion whenever another request arrives, even a GET /v1/models.
    """
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and server.poll() is None:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.1)
    server.kill()
    sys.exit("llama_cpp.server did not start: pip install 'llama-cpp-python[server]==0.3.36'")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _parse() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--model", default="smollm2-135m", help="embedded model id")
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--max-tokens", type=int, default=8)
    return parser.parse_args()


if __name__ == "__main__":
    main()
