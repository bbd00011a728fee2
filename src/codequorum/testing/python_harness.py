"""Runs inside the sandbox with /usr/bin/python3 (standard library only): never import codequorum.

Reads job.json: {"candidates": [program, ...], "tests": [{"name", "kind", "source", "want"}],
"timeout_s": seconds per candidate}. Each candidate runs in its own forked child, so one that
crashes, hangs or calls os._exit cannot take the others with it; the child reports one JSON line
per finished test through a pipe, and the parent kills it when its time is up. The parent prints
one JSON line per candidate: {"candidate": i, "results": [true/false per test], "error": str|null,
"values": [str|null per test]}. A "probe" test is an expression: its value (floats rounded, so that
answers equal up to rounding read the same) or the exception it raises is the candidate's
behaviour on it; a "probe" passes when it returns.

Candidates are isolated from each other. The harness is made non-dumpable first, so no
candidate (same uid, no capabilities) can ptrace it, read its memory or take its descriptors
with `pidfd_getfd`. The result lines are written by a reporter process of its own, forked before
any candidate: it alone holds stdout, reads a nonce from stdin (the runner's, sent once and
closed) and puts it before every line; the runner ignores lines without it. No candidate ever
shares memory with the nonce, so a candidate that reaches a copy of stdout anyway (bwrap's pid 1
holds one) cannot write a line the runner accepts. Each candidate reports through its own pipe,
read with a cap and checked field by field; when it is done, every other process in the
sandbox's PID namespace is killed before the next candidate starts, so nothing of one candidate
survives into another's run. What a candidate says about its own tests is trusted no more than
its code: it runs in the same process as them.
"""

import ctypes
import doctest
import io
import json
import os
import select
import signal
import sys
import time

PR_SET_DUMPABLE = 4
PR_SET_CHILD_SUBREAPER = 36
_REPORT_BYTES_PER_TEST = 4096  # a probe's value is at most _VALUE_CHARS characters
_NONCE_BYTES = 128


def main():
    _undumpable()
    own_namespace = _in_own_pid_namespace()
    report, reporter = _start_reporter()
    with open("job.json", encoding="utf-8") as handle:
        job = json.load(handle)
    for index, program in enumerate(job["candidates"]):
        outcome = run_candidate(program, job["tests"], job["timeout_s"])
        outcome["candidate"] = index
        if own_namespace:
            _kill_everything_else(spared={reporter})
        _write_all(report, (json.dumps(outcome) + "\n").encode())
    os.close(report)
    os.waitpid(reporter, 0)


def _undumpable():
    """No process without CAP_SYS_PTRACE may ptrace this one (or its forks), read their memory
    or their descriptors; orphaned descendants come back to it, so that it can reap them."""
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "cannot make the harness non-dumpable")
    libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)


def _start_reporter():
    """Fork the process that holds stdout and the nonce; returns (the pipe to it, its pid).
    Returns once it has read the nonce, so that stdin is empty before any candidate runs."""
    lines_r, lines_w = os.pipe()
    ready_r, ready_w = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(lines_w)
        os.close(ready_r)
        nonce = _read_nonce()
        os.write(ready_w, b"1")
        os.close(ready_w)
        with os.fdopen(lines_r, "rb") as lines:
            for line in lines:
                _write_all(1, nonce + b" " + line)
        os._exit(0)
    os.close(lines_r)
    os.close(ready_w)
    os.read(ready_r, 1)
    os.close(ready_r)
    devnull = os.open(os.devnull, os.O_RDWR)
    os.dup2(devnull, 0)  # neither stdin nor stdout stays with the process candidates fork from
    os.dup2(devnull, 1)
    os.close(devnull)
    return lines_w, pid


def _read_nonce():
    data = b""
    while b"\n" not in data and len(data) < _NONCE_BYTES:
        chunk = os.read(0, _NONCE_BYTES)
        if not chunk:
            break
        data += chunk
    os.close(0)
    return data.split(b"\n")[0].strip()


def _write_all(fd, data):
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]


def _in_own_pid_namespace():
    """Inside bubblewrap's PID namespace, where bwrap is pid 1; never on the host."""
    try:
        with open("/proc/1/comm", encoding="ascii") as handle:
            return os.getpid() < 10 and handle.read().strip() == "bwrap"
    except OSError:
        return False


def _kill_everything_else(spared):
    """SIGKILL to every process in the namespace but pid 1, this one and `spared`, until none
    is left; orphans come back to this (subreaper) process and are reaped here."""
    keep = {1, os.getpid(), *spared}
    for _ in range(10000):
        others = [pid for pid in _pids() if pid not in keep]
        if not others:
            return
        for pid in others:
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass
        _reap_children(keep)
        time.sleep(0.0005)


def _pids():
    return [int(name) for name in os.listdir("/proc") if name.isdigit()]


def _reap_children(keep):
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0 or pid in keep:
            return


def run_candidate(program, tests, timeout_s):
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(read_end)
        _child(program, tests, write_end)
    os.close(write_end)
    lines, error = _collect(read_end, pid, timeout_s, _REPORT_BYTES_PER_TEST * (len(tests) + 1))
    results = [False] * len(tests)
    values = [None] * len(tests)
    for line in lines:
        test = line.get("test") if isinstance(line, dict) else None
        if type(test) is int and 0 <= test < len(tests) and type(line.get("passed")) is bool:
            results[test] = line["passed"]
            value = line.get("value")
            values[test] = value[:_VALUE_CHARS] if isinstance(value, str) else None
        elif isinstance(line, dict) and isinstance(line.get("error"), str):
            error = line["error"][:400]
    return {"results": results, "error": error, "values": values}


def _child(program, tests, write_end):
    """Never returns: runs the program and its tests, reports through the pipe, exits."""
    os.closerange(3, write_end)  # the pipe to the reporter, above all
    os.closerange(write_end + 1, 4096)
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


def _collect(read_end, pid, timeout_s, cap):
    """Read the child's report lines (at most `cap` bytes) until it exits or its time is up
    (then kill it)."""
    deadline = time.monotonic() + timeout_s
    buffer, error = b"", None
    while len(buffer) <= cap:
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
    else:
        error = "its report was over %d bytes" % cap
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
