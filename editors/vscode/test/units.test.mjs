// The extension's logic that needs no VS Code: addresses, the token, backoff, which
// suggestion is on screen, how much a partial accept took, and the feedback it reports.
import assert from "node:assert/strict";
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { AddressError, describeAddress, parseAddress } from "../out/address.js";
import { Backoff } from "../out/backoff.js";
import { findExecutable } from "../out/executable.js";
import { FeedbackTracker } from "../out/feedback.js";
import { ShownSuggestions, acceptedLength } from "../out/shown.js";
import { TokenError, findToken } from "../out/token.js";

test("addresses: empty starts a local server; tcp, tls, ws and wss connect; the rest is refused with examples", () => {
  assert.deepEqual(parseAddress("  "), { kind: "stdio" });
  assert.deepEqual(parseAddress("tcp://127.0.0.1:2087"), { kind: "tcp", host: "127.0.0.1", port: 2087, tls: false });
  assert.deepEqual(parseAddress("tcp://[::1]:2087"), { kind: "tcp", host: "::1", port: 2087, tls: false });
  assert.deepEqual(parseAddress("tls://team.example:2087"), { kind: "tcp", host: "team.example", port: 2087, tls: true });
  assert.equal(describeAddress(parseAddress("tls://[::1]:9")), "tls://[::1]:9");
  assert.deepEqual(parseAddress("wss://team.example/lsp"), { kind: "ws", url: "wss://team.example/lsp" });
  assert.equal(describeAddress(parseAddress("tcp://[::1]:9")), "tcp://[::1]:9");
  for (const bad of ["http://host:1", "tcp://host", "127.0.0.1:2087", "tcp://:5", "tls://host"]) {
    assert.throws(() => parseAddress(bad), AddressError, bad);
  }
  assert.throws(() => parseAddress("http://host:1"), /tcp:\/\/HOST:PORT, tls:\/\/HOST:PORT, ws:\/\//);
});

test("the token: the stored secret first, then the environment variable, then the file", () => {
  const dir = mkdtempSync(join(tmpdir(), "codequorum-token-"));
  try {
    const file = join(dir, "token");
    writeFileSync(file, "from-file\n");
    const env = { CQ_TOKEN: " from-env " };
    assert.equal(findToken({ secret: "stored", envName: "CQ_TOKEN", file, env }), "stored");
    assert.equal(findToken({ secret: undefined, envName: "CQ_TOKEN", file, env }), "from-env");
    assert.equal(findToken({ secret: "", envName: "UNSET", file, env }), "from-file");
    assert.equal(findToken({ secret: undefined, envName: "UNSET", file: "", env }), undefined);
    assert.throws(() => findToken({ secret: undefined, envName: "", file: join(dir, "missing"), env }), TokenError);
    writeFileSync(file, "  \n");
    assert.throws(() => findToken({ secret: undefined, envName: "", file, env }), /is empty/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("backoff doubles from 1 s to at most 30 s and starts over once connected", () => {
  const backoff = new Backoff();
  assert.deepEqual(Array.from({ length: 7 }, () => backoff.next()), [1000, 2000, 4000, 8000, 16000, 30000, 30000]);
  backoff.reset();
  assert.equal(backoff.next(), 1000);
});

test("the executable is looked up on the PATH, or taken as a path", () => {
  const dir = mkdtempSync(join(tmpdir(), "codequorum-bin-"));
  try {
    const program = join(dir, "codequorum");
    writeFileSync(program, "#!/bin/sh\n");
    chmodSync(program, 0o755);
    writeFileSync(join(dir, "not-executable"), "");
    assert.equal(findExecutable("codequorum", { PATH: `/nonexistent:${dir}` }, undefined), program);
    assert.equal(findExecutable(program, { PATH: "" }, undefined), program);
    assert.equal(findExecutable("./codequorum", { PATH: "" }, dir), program);
    assert.equal(findExecutable("not-executable", { PATH: dir }, undefined), undefined);
    assert.equal(findExecutable("codequorum", { PATH: "/nonexistent" }, undefined), undefined);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

const SHOWN = [
  { id: "a-1", member: "qwen-small", text: "return sum(values)", uri: "file:///s.py", line: 5, character: 4 },
  { id: "a-2", member: "qwen-large", text: "total = 0", uri: "file:///s.py", line: 5, character: 4 },
  { id: "a-3", member: "smollm2", text: "pass", uri: "file:///s.py", line: 5, character: 4 },
];

test("the suggestion on screen follows Alt+] and Alt+[ through the alternatives, wrapping around", () => {
  const shown = new ShownSuggestions();
  assert.equal(shown.cycle(1), undefined);
  shown.replace(SHOWN);
  assert.equal(shown.current.member, "qwen-small");
  assert.equal(shown.cycle(1).member, "qwen-large");
  assert.equal(shown.rank, 2);
  assert.equal(shown.cycle(1).member, "smollm2");
  assert.equal(shown.cycle(1).member, "qwen-small");
  assert.equal(shown.cycle(-1).member, "smollm2");
  assert.equal(shown.count, 3);
  shown.replace(SHOWN.slice(0, 1));
  assert.equal(shown.rank, 1);
});

test("a partial accept counts what the document holds of the suggestion's beginning", () => {
  assert.equal(acceptedLength(SHOWN[0], "return "), 7);
  assert.equal(acceptedLength(SHOWN[0], "return sum(values)"), 18);
  assert.equal(acceptedLength(SHOWN[0], "retrun "), 0);
  assert.equal(acceptedLength(SHOWN[0], ""), 0);
});

test("feedback: each suggestion seen once shown, dismissed unless accepted in full or in part", () => {
  const sent = [];
  const feedback = new FeedbackTracker((params) => sent.push(params));
  feedback.shown("a-1");
  feedback.shown("a-2");
  feedback.shown("a-1"); // back to the best with Alt+[: already reported
  feedback.accepted("a-2");
  feedback.dismissShown();
  feedback.shown("b-1");
  feedback.partiallyAccepted("b-1", 7);
  feedback.dismissShown();
  assert.deepEqual(sent, [
    { id: "a-1", event: "shown" },
    { id: "a-2", event: "shown" },
    { id: "a-1", event: "dismissed" },
    { id: "b-1", event: "shown" },
    { id: "b-1", event: "accepted_partial", accepted_chars: 7 },
  ]);
});
