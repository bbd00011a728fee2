"""Runs inside the sandbox with /usr/bin/python3 (standard library only): never import codequorum.

Reads job.json: {"candidates": [program, ...], "tests": [{"name", "kind", "source", "want"}],
"timeout_s": seconds per candidate}. Each candidate runs in its own forked child, so one that
crashes, hangs or calls os._exit cannot take the others with it; the child reports one JSON line
per finished test through a pipe, and the parent kills it when its time is up. The parent prints
one JSON line per candidate: {"candidate": i, "results": [true/false per test], "error": str|null,
"values": [str|null per test]}. A "probe" test is an expression: its value (floats rounded, so that
answers equal up to rounding read the same) or the exception it raises is the candidate's
behaviour on it; a "probe" passes when it returns.
"""

import doctest
import io
import json
import os
import select
import signal
import sys
import time


def main():
    with open("job.json", encoding="utf-8") as handle:
        job = json.load(handle)
    for index, program in enumerate(job["candidates"]):
        outcome = run_candidate(program, job["tests"], job["timeout_s"])
        outcome["candidate"] = index
        print(json.dumps(outcome), flush=True)


def run_candidate(program, tests, timeout_s):
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(read_end)
        _child(program, tests, write_end)
    os.close(write_end)
    lines, error = _collect(read_end, pid, timeout_s)
    results = [False] * len(tests)
    values = [None] * len(tests)
    for line in lines:
        if "test" in line:
            results[line["test"]] = line["passed"]
            values[line["test"]] = line.get("value")
        elif "error" in line:
            error = line["error"]
    return {"results": results, "error": error, "values": values}


def _child(program, tests, write_end):
    """Never returns: runs the program and its tests, reports through the pipe, exits."""
    out = os.fdopen(write_end, "w", buffering=1)
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)
    os.dup2(devnull, 2)
    sys.stdout = io.StringIO()
    namespace = {"__name__": "__candidate__"}
    try:
        exec(compile(program, "candidate.py", "exec"), namespace)
    except BaseException as error:  # the candidate does not even load
        out.write(json.dumps({"error": "load: " + _describe(error)}) + "\n")
        os._exit(0)
    for index, test in enumerate(tests):
        if test["kind"] == "probe":
            passed, value = _run_probe(test, namespace)
            out.write(json.dumps({"test": index, "passed": passed, "value": value}) + "\n")
            continue
        passed = _run_test(test, namespace)
        out.write(json.dumps({"test": index, "passed": passed}) + "\n")
    out.flush()
    os._exit(0)


def _run_test(test, namespace):
    try:
        if test["kind"] == "doctest":
            return _run_doctest(test, namespace)
        exec(compile(test["source"], test["name"], "exec"), namespace)
        if test["kind"] == "function":
            namespace[test["name"]]()
        return True
    except BaseException:
        return False


def _run_probe(test, namespace):
    try:
        value = eval(compile(test["source"], test["name"], "eval"), namespace)
        return True, _canonical(value)[:_VALUE_CHARS]
    except BaseException as error:  # noqa: BLE001 - what it raises is its behaviour
        return False, "raises " + type(error).__name__


_VALUE_CHARS = 2000


def _canonical(value, depth=0):
    """repr, with floats to 9 significant digits at any depth of the usual containers."""
    if depth > 20:
        return "..."
    if isinstance(value, float):
        return f"{value:.9g}"
    if isinstance(value, (list, tuple)):
        inner = ", ".join(_canonical(item, depth + 1) for item in value)
        return f"[{inner}]" if isinstance(value, list) else f"({inner})"
    if isinstance(value, dict):
        items = sorted((_canonical(k, depth + 1), _canonical(v, depth + 1)) for k, v in value.items())
        return "{" + ", ".join(f"{key}: {item}" for key, item in items) + "}"
    if isinstance(value, (set, frozenset)):
        return "{" + ", ".join(sorted(_canonical(item, depth + 1) for item in value)) + "}"
    return repr(value)


def _run_doctest(test, namespace):
    example = doctest.Example(test["source"], test["want"])
    case = doctest.DocTest([example], dict(namespace), test["name"], None, 0, None)
    runner = doctest.DocTestRunner(optionflags=doctest.NORMALIZE_WHITESPACE | doctest.ELLIPSIS)
    runner.run(case, out=lambda _text: None)
    return runner.failures == 0


def _collect(read_end, pid, timeout_s):
    """Read the child's report lines until it exits or its time is up (then kill it)."""
    deadline = time.monotonic() + timeout_s
    buffer, error = b"", None
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            error = "timeout after %.1fs" % timeout_s
            break
        ready, _, _ = select.select([read_end], [], [], left)
        if not ready:
            continue
        chunk = os.read(read_end, 65536)
        if not chunk:
            break
        buffer += chunk
    os.close(read_end)
    _reap(pid)
    lines = [json.loads(raw) for raw in buffer.decode("utf-8", "replace").splitlines() if _is_json(raw)]
    return lines, error


def _reap(pid):
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    try:
        os.waitpid(pid, 0)
    except ChildProcessError:
        pass


def _is_json(raw):
    try:
        json.loads(raw)
        return True
    except ValueError:
        return False


def _describe(error):
    return "%s: %s" % (type(error).__name__, str(error)[:300])


if __name__ == "__main__":
    main()
