// The extension's side of the protocol against the real `codequorum serve` over stdio (VS
// Code itself cannot run here): initializationOptions built by the extension's own settings
// code, an inline completion, the member the status bar shows, feedback as the extension sends
// it, and a clean shutdown. CODEQUORUM_BIN names the server (default: .venv/bin/codequorum).
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { once } from "node:events";
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
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
} from "vscode-languageserver-protocol/node.js";
import { FeedbackTracker } from "../out/feedback.js";
import { ACCEPT_COMMAND, FeedbackNotification, GENERATE_COMMAND, STATS_COMMAND, originOf } from "../out/protocol.js";
import { serverOptions } from "../out/settings.js";

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
    ["server.feedback_db", join(scratch, "feedback.sqlite3")],
  ];
}

function startServer(scratch) {
  assert.ok(existsSync(CODEQUORUM), `${CODEQUORUM} does not exist: set CODEQUORUM_BIN to the codequorum executable`);
  // No configuration file but the options: a scratch directory for cwd and the user config dir.
  const env = { ...process.env, XDG_CONFIG_HOME: scratch };
  delete env.CODEQUORUM_CONFIG;
  const server = spawn(CODEQUORUM, ["serve", "--stdio"], { cwd: scratch, env, stdio: ["pipe", "pipe", "pipe"] });
  let log = "";
  server.stderr.on("data", (chunk) => (log += chunk));
  const connection = createProtocolConnection(
    new StreamMessageReader(server.stdout),
    new StreamMessageWriter(server.stdin),
  );
  const messages = [];
  connection.onNotification(ShowMessageNotification.type, (message) => messages.push(message));
  connection.listen();
  return { server, connection, messages, log: () => log };
}

test("the extension's requests get an inline suggestion, its member and feedback from the real server", { timeout: 300_000 }, async (t) => {
  const scratch = mkdtempSync(join(tmpdir(), "codequorum-vscode-"));
  const { server, connection, messages, log } = startServer(scratch);
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
