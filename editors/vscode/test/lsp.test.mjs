// The extension's side of the protocol against the real `codequorum serve` (VS Code itself
// cannot run here): over stdio, initializationOptions built by the extension's own settings
// code, the warm-up's codequorum/status, an inline completion, the member the status bar
// shows, feedback as the extension sends it, and a clean shutdown; over TCP with a token and
// over WebSocket, connected by the extension's own transport code, the token check, a
// suggestion partly then fully accepted, and the strategy/member choices.
// CODEQUORUM_BIN names the server (default: .venv/bin/codequorum); CODEQUORUM_FEEDBACK_DIR,
// when set, keeps the TCP test's feedback database there for the Python test to read.
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { once } from "node:events";
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { test } from "node:test";
import { fileURLToPath, pathToFileURL } from "node:url";
import {
  DidOpenTextDocumentNotification,
  ExecuteCommandRequest,
  ExitNotification,
  InitializedNotification,
  InitializeRequest,
  InlineCompletionRequest,
  InlineCompletionTriggerKind,
  MessageType,
  ShowMessageNotification,
  ShutdownRequest,
  StreamMessageReader,
  StreamMessageWriter,
  createProtocolConnection,
} from "vscode-languageserver-protocol/node";
import { FeedbackTracker } from "../out/feedback.js";
import {
  ACCEPT_COMMAND,
  CHOICES_COMMAND,
  FeedbackNotification,
  GENERATE_COMMAND,
  STATS_COMMAND,
  StatusNotification,
  originOf,
} from "../out/protocol.js";
import { serverOptions } from "../out/settings.js";
import { acceptedLength } from "../out/shown.js";
import { connectTcp, connectWebSocket } from "../out/transport.js";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../../..");
const CODEQUORUM = resolve(ROOT, process.env.CODEQUORUM_BIN ?? ".venv/bin/codequorum");
const MAX_TOKENS = 24;
const MEAN_BODY = { line: 5, character: 4 }; // the empty body of `mean` in examples/stats.py

// What a user would put in settings.json to keep to one small member, as the extension reads
// it: [name under "codequorum.", value].
function userSettings(scratch) {
  return [
    ["members.qwen-large.enabled", false],
    ["members.smollm2.enabled", false],
    ["server.inline_max_tokens", MAX_TOKENS],
    ["server.line_max_tokens", MAX_TOKENS],
    ["server.inline_deadline_s", 150],
    ["server.debounce_ms", 0],
  ];
}

function spawnServer(scratch, args, feedbackDb = join(scratch, "feedback.sqlite3")) {
  assert.ok(existsSync(CODEQUORUM), `${CODEQUORUM} does not exist: set CODEQUORUM_BIN to the codequorum executable`);
  // The server's own configuration (./codequorum.toml in a scratch cwd, the scratch as the user
  // config dir): which members exist and where feedback goes come from the server, never from a
  // client; the clients' settings below switch members too, which a stdio client may.
  writeFileSync(join(scratch, "codequorum.toml"),
    `[members.qwen-large]\nenabled = false\n[members.smollm2]\nenabled = false\n` +
    `[server]\nfeedback_db = ${JSON.stringify(feedbackDb)}\n`);
  const env = { ...process.env, XDG_CONFIG_HOME: scratch };
  delete env.CODEQUORUM_CONFIG;
  const server = spawn(CODEQUORUM, ["serve", ...args], { cwd: scratch, env, stdio: ["pipe", "pipe", "pipe"] });
  let log = "";
  server.stderr.on("data", (chunk) => (log += chunk));
  return { server, log: () => log };
}

// What the extension listens to besides the answers: error pop-ups and the server's state.
function listen(connection) {
  const messages = [];
  const statuses = [];
  connection.onNotification(ShowMessageNotification.type, (message) => messages.push(message));
  connection.onNotification(StatusNotification, (status) => statuses.push(status));
  connection.listen();
  return { messages, statuses };
}

function startServer(scratch) {
  const { server, log } = spawnServer(scratch, ["--stdio"]);
  const connection = createProtocolConnection(
    new StreamMessageReader(server.stdout),
    new StreamMessageWriter(server.stdin),
  );
  return { server, connection, ...listen(connection), log };
}

/** `codequorum serve --tcp|--ws 127.0.0.1:0`, once it says where it listens. */
async function startNetworkServer(scratch, transport, extra = [], feedbackDb = undefined) {
  const { server, log } = spawnServer(scratch, [`--${transport}`, "127.0.0.1:0", ...extra], feedbackDb);
  const deadline = Date.now() + 60_000;
  let address;
  while (!(address = /serving LSP on (\S+)/.exec(log())?.[1])) {
    assert.ok(server.exitCode === null && Date.now() < deadline, `the server did not start listening:\n${log()}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return { server, log, url: new URL(address) };
}

async function until(what, ready, timeoutMs = 240_000) {
  const deadline = Date.now() + timeoutMs;
  while (!ready()) {
    assert.ok(Date.now() < deadline, `timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

async function stopServer(connection, server) {
  const exited = once(server, "exit", { signal: AbortSignal.timeout(15_000) });
  await connection.sendRequest(ShutdownRequest.type);
  await connection.sendNotification(ExitNotification.type);
  if (server.exitCode === null) server.kill(); // a network server outlives its clients
  await exited;
}

test("the extension's requests get an inline suggestion, its member and feedback from the real server", { timeout: 300_000 }, async (t) => {
  const scratch = mkdtempSync(join(tmpdir(), "codequorum-vscode-"));
  const { server, connection, messages, statuses, log } = startServer(scratch);
  t.after(() => {
    connection.dispose();
    if (server.exitCode === null) server.kill();
    rmSync(scratch, { recursive: true, force: true });
  });

  const initialized = await connection.sendRequest(InitializeRequest.type, {
    processId: process.pid,
    rootUri: pathToFileURL(scratch).href,
    capabilities: { textDocument: { inlineCompletion: { dynamicRegistration: true } } },
    initializationOptions: serverOptions(userSettings(scratch)),
  });
  const { capabilities } = initialized;
  assert.ok(capabilities.inlineCompletionProvider, "the server should offer inline completions");
  for (const command of [ACCEPT_COMMAND, GENERATE_COMMAND, STATS_COMMAND]) {
    assert.ok(capabilities.executeCommandProvider.commands.includes(command), `the server should provide ${command}`);
  }
  await connection.sendNotification(InitializedNotification.type, {});
  // The warm-up: the status bar says "loading models", then the suggestions can start.
  await until("the warm-up to end", () => statuses.length >= 2);
  assert.deepEqual(statuses.map((status) => status.state), ["loading", "ready"], log());
  assert.ok(statuses[1].seconds > 0);

  const stats = join(scratch, "stats.py");
  copyFileSync(join(ROOT, "examples", "stats.py"), stats);
  const uri = pathToFileURL(stats).href;
  await connection.sendNotification(DidOpenTextDocumentNotification.type, {
    textDocument: { uri, languageId: "python", version: 1, text: readFileSync(stats, "utf8") },
  });
  const result = await connection.sendRequest(InlineCompletionRequest.type, {
    textDocument: { uri },
    position: MEAN_BODY,
    context: { triggerKind: InlineCompletionTriggerKind.Automatic },
  });
  const items = Array.isArray(result) ? result : result.items;
  assert.ok(items.length > 0, `expected a suggestion; server log:\n${log()}`);
  const [best] = items;
  assert.match(best.insertText, /values/);
  assert.deepEqual(best.range, { start: MEAN_BODY, end: MEAN_BODY });

  // What the status bar shows and feedback is reported under.
  const origin = originOf(best.command);
  assert.equal(origin?.member, "qwen-small");
  const feedback = new FeedbackTracker((params) => connection.sendNotification(FeedbackNotification, params));
  feedback.shown(origin.id);
  // VS Code runs the item's command when the user accepts it.
  const { command, arguments: args } = best.command;
  const accepted = await connection.sendRequest(ExecuteCommandRequest.type, { command, arguments: args });
  assert.deepEqual(accepted, { stored: true });
  feedback.accepted(origin.id);
  feedback.dismissShown(); // the next request: nothing left to dismiss

  const counters = await connection.sendRequest(ExecuteCommandRequest.type, { command: STATS_COMMAND });
  assert.equal(counters.feedback_events, 2);
  assert.equal(counters.unknown_feedback, 0);
  const calls = counters.last_run.calls;
  assert.deepEqual(calls.map((call) => call.member), ["qwen-small"]);
  assert.ok(calls[0].tokens > 0 && calls[0].tokens <= MAX_TOKENS, `tokens: ${calls[0].tokens}`);
  assert.deepEqual(messages.filter((message) => message.type === MessageType.Error), []);

  const exited = once(server, "exit", { signal: AbortSignal.timeout(15_000) });
  await connection.sendRequest(ShutdownRequest.type);
  await connection.sendNotification(ExitNotification.type);
  const [code] = await exited;
  assert.equal(code, 0, log());
});

const TOKEN = `token-${process.pid}-${Date.now()}`;

test("over TCP with a token: refused without it; with it, a suggestion partly then fully accepted", { timeout: 300_000 }, async (t) => {
  const scratch = mkdtempSync(join(tmpdir(), "codequorum-vscode-tcp-"));
  const tokenFile = join(scratch, "token");
  writeFileSync(tokenFile, `${TOKEN}\n`);
  const feedbackDir = process.env.CODEQUORUM_FEEDBACK_DIR ?? scratch;
  const { server, log, url } = await startNetworkServer(scratch, "tcp", ["--token-file", tokenFile],
    join(feedbackDir, "feedback-tcp.sqlite3"));
  t.after(() => {
    if (server.exitCode === null) server.kill();
    rmSync(scratch, { recursive: true, force: true });
  });
  const settings = userSettings(scratch);
  const initialize = (connection, token) =>
    connection.sendRequest(InitializeRequest.type, {
      processId: process.pid,
      rootUri: pathToFileURL(scratch).href,
      capabilities: { textDocument: { inlineCompletion: { dynamicRegistration: true } } },
      initializationOptions: { ...serverOptions(settings), ...(token ? { token } : {}) },
    });

  // The supervisor tells a refused token (error -32001) from a dropped connection.
  const wrong = await connectTcp(url.hostname, Number(url.port));
  const refusedConnection = createProtocolConnection(wrong.reader, wrong.writer);
  refusedConnection.listen();
  await assert.rejects(initialize(refusedConnection, "not-the-token"), (error) => error.code === -32001 && /wrong token/.test(error.message));
  refusedConnection.dispose();
  wrong.close();

  const transport = await connectTcp(url.hostname, Number(url.port));
  const connection = createProtocolConnection(transport.reader, transport.writer);
  const { messages, statuses } = listen(connection);
  t.after(() => connection.dispose());
  await initialize(connection, TOKEN);
  await connection.sendNotification(InitializedNotification.type, {});
  await until("the warm-up to end", () => statuses.some((status) => status.state === "ready"));

  const stats = join(scratch, "stats.py");
  copyFileSync(join(ROOT, "examples", "stats.py"), stats);
  const uri = pathToFileURL(stats).href;
  await connection.sendNotification(DidOpenTextDocumentNotification.type, {
    textDocument: { uri, languageId: "python", version: 1, text: readFileSync(stats, "utf8") },
  });
  const result = await connection.sendRequest(InlineCompletionRequest.type, {
    textDocument: { uri },
    position: MEAN_BODY,
    context: { triggerKind: InlineCompletionTriggerKind.Invoked },
  });
  const items = Array.isArray(result) ? result : result.items;
  assert.ok(items.length > 0, `expected a suggestion; server log:\n${log()}`);
  const origin = originOf(items[0].command);
  const shown = { ...origin, text: items[0].insertText, uri, ...MEAN_BODY };
  const feedback = new FeedbackTracker((params) => connection.sendNotification(FeedbackNotification, params));
  feedback.shown(origin.id);
  // acceptNextWord: the document now holds the suggestion's first word.
  const firstWord = /^\s*\S+/.exec(shown.text)[0];
  feedback.partiallyAccepted(origin.id, acceptedLength(shown, firstWord));
  const accepted = await connection.sendRequest(ExecuteCommandRequest.type, items[0].command);
  assert.deepEqual(accepted, { stored: true });

  const choices = await connection.sendRequest(ExecuteCommandRequest.type, { command: CHOICES_COMMAND });
  assert.deepEqual(choices.members, ["qwen-small"]);
  assert.ok(choices.strategies.includes("best-of") && choices.strategies.includes("single"), JSON.stringify(choices));
  const counters = await connection.sendRequest(ExecuteCommandRequest.type, { command: STATS_COMMAND });
  assert.equal(counters.feedback_events, 3, JSON.stringify(counters));
  assert.equal(counters.unknown_feedback, 0);
  assert.deepEqual(messages.filter((message) => message.type === MessageType.Error), []);
  writeFileSync(join(feedbackDir, "tcp-partial.json"), JSON.stringify({ id: origin.id, accepted_chars: firstWord.length }));
  await stopServer(connection, server);
});

test("over WebSocket: the extension's transport speaks to `serve --ws`, ready at once without a warm-up", { timeout: 120_000 }, async (t) => {
  const scratch = mkdtempSync(join(tmpdir(), "codequorum-vscode-ws-"));
  const { server, log, url } = await startNetworkServer(scratch, "ws");
  t.after(() => {
    if (server.exitCode === null) server.kill();
    rmSync(scratch, { recursive: true, force: true });
  });
  const transport = await connectWebSocket(`ws://${url.host}/`);
  const connection = createProtocolConnection(transport.reader, transport.writer);
  const { statuses } = listen(connection);
  t.after(() => connection.dispose());
  const { capabilities } = await connection.sendRequest(InitializeRequest.type, {
    processId: process.pid,
    rootUri: pathToFileURL(scratch).href,
    capabilities: {},
    initializationOptions: { server: { warm_up: false, feedback: false } },
  });
  assert.ok(capabilities.executeCommandProvider.commands.includes(CHOICES_COMMAND));
  await connection.sendNotification(InitializedNotification.type, {});
  await until("the status", () => statuses.length > 0, 30_000);
  assert.deepEqual(statuses, [{ state: "ready" }]);
  const choices = await connection.sendRequest(ExecuteCommandRequest.type, { command: CHOICES_COMMAND });
  assert.deepEqual(choices.members, ["qwen-small"], log()); // the server's file switched the others off
  assert.equal(choices.inline_strategy, "confidence"); // [server] inline_strategy's default
  assert.equal(choices.default_strategy, "confidence"); // what "Server default" brings back
  await stopServer(connection, server);
});

test("over TLS: `serve --tcp --tls-cert` with a private CA; its certificate is checked", { timeout: 120_000 }, async (t) => {
  const scratch = mkdtempSync(join(tmpdir(), "codequorum-vscode-tls-"));
  const cert = join(scratch, "server.crt");
  const key = join(scratch, "server.key");
  const made = spawnSync("openssl", ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
    "-nodes", "-keyout", key, "-out", cert, "-days", "1", "-subj", "/CN=127.0.0.1",
    "-addext", "subjectAltName=IP:127.0.0.1"]);
  assert.equal(made.status, 0, `openssl could not make a certificate: ${made.stderr}`);
  const tokenFile = join(scratch, "token");
  writeFileSync(tokenFile, `${TOKEN}\n`, { mode: 0o600 });
  const { server, log, url } = await startNetworkServer(scratch, "tcp",
    ["--token-file", tokenFile, "--tls-cert", cert, "--tls-key", key]);
  t.after(() => {
    if (server.exitCode === null) server.kill();
    rmSync(scratch, { recursive: true, force: true });
  });
  assert.equal(url.protocol, "tls:", log());
  // a self-signed certificate is no CA the system trusts: refused unless the settings name it
  await assert.rejects(connectTcp(url.hostname, Number(url.port), {}), /self-signed|certificate/);
  const transport = await connectTcp(url.hostname, Number(url.port), { ca: readFileSync(cert) });
  const connection = createProtocolConnection(transport.reader, transport.writer);
  const { statuses } = listen(connection);
  t.after(() => connection.dispose());
  await connection.sendRequest(InitializeRequest.type, {
    processId: process.pid,
    rootUri: pathToFileURL(scratch).href,
    capabilities: {},
    initializationOptions: { token: TOKEN, server: { warm_up: false, feedback: false } },
  });
  await connection.sendNotification(InitializedNotification.type, {});
  await until("the status", () => statuses.length > 0, 30_000);
  assert.deepEqual(statuses, [{ state: "ready" }]);
  await stopServer(connection, server);
});
