"""Runs inside the sandbox with /usr/bin/python3 (standard library only): never import codequorum.

Reads job.json: {"program": code, "case": {"name", "kind", "source", "want"}}. Runs the program,
then that one test case, and prints one JSON line {"passed": bool, "report": text} saying what a
programmer looks at when a test fails: for `assert LEFT <op> RIGHT` the values of both sides,
for a doctest the expected and the actual output, otherwise the exception and the traceback
through the candidate's own lines. The repair rung (`core/repair.py`) shows it to a member.
"""

import ast
import contextlib
import doctest
import io
import json
import linecache
import sys
import traceback

PROGRAM = "candidate.py"
VALUE_CHARS = 300


def main():
    with open("job.json", encoding="utf-8") as handle:
        job = json.load(handle)
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed), contextlib.redirect_stderr(printed):
        passed, report = diagnose(job["program"], job["case"])
    output = printed.getvalue().strip()
    if output and not passed:
        report += "\nthe code printed:\n" + output[-500:]
    sys.__stdout__.write(json.dumps({"passed": passed, "report": report}) + "\n")


def diagnose(program, case):
    linecache.cache[PROGRAM] = (len(program), None, program.splitlines(True), PROGRAM)
    linecache.cache[case["name"]] = (len(case["source"]), None, case["source"].splitlines(True), case["name"])
    namespace = {"__name__": "__candidate__"}
    try:
        exec(compile(program, PROGRAM, "exec"), namespace)
    except BaseException as error:  # noqa: BLE001 - what it raises is the report
        return False, "the code does not load:\n" + _traceback(error)
    if case["kind"] == "doctest":
        return _doctest(case, namespace)
    try:
        exec(compile(case["source"], case["name"], "exec"), namespace)
        if case["kind"] == "function":
            namespace[case["name"]]()
    except AssertionError as error:
        return False, _assertion(case["source"], namespace, error)
    except BaseException as error:  # noqa: BLE001
        return False, _traceback(error)
    return True, "passed"


def _assertion(source, namespace, error):
    """The failed assert's sides, evaluated again, when the case is one comparison."""
    lines = [_traceback(error)]
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return lines[0]
    statement = tree.body[0] if len(tree.body) == 1 else None
    test = statement.test if isinstance(statement, ast.Assert) else None
    if isinstance(test, ast.Compare) and len(test.ops) == 1:
        for side, node in (("left", test.left), ("right", test.comparators[0])):
            lines.append(f"{side} side `{ast.unparse(node)}` is {_value(node, namespace)}")
    return "\n".join(lines)


def _value(node, namespace):
    try:
        value = eval(compile(ast.Expression(node), "<assert>", "eval"), namespace)
    except BaseException as error:  # noqa: BLE001
        return f"an exception: {type(error).__name__}: {error}"
    text = repr(value)
    return text if len(text) <= VALUE_CHARS else text[:VALUE_CHARS] + "..."


def _doctest(case, namespace):
    example = doctest.Example(case["source"], case["want"])
    test = doctest.DocTest([example], dict(namespace), case["name"], None, 0, None)
    runner = doctest.DocTestRunner(optionflags=doctest.NORMALIZE_WHITESPACE | doctest.ELLIPSIS)
    report = io.StringIO()
    runner.run(test, out=report.write)
    if runner.failures == 0:
        return True, "passed"
    text = report.getvalue().replace("*" * 70, "").strip()
    return False, "\n".join(row for row in text.splitlines() if not row.startswith("File "))


def _traceback(error):
    """The exception and the frames in the candidate or the test, not in this harness."""
    summary = traceback.TracebackException.from_exception(error)
    summary.stack = traceback.StackSummary.from_list(
        [frame for frame in summary.stack if frame.filename != __file__])
    return "".join(summary.format()).strip()


if __name__ == "__main__":
    main()
