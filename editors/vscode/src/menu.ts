import * as vscode from "vscode";
import { ExecuteCommandRequest, LanguageClient } from "vscode-languageclient/node";
import { showStats } from "./commands";
import { CHOICES_COMMAND, Choices } from "./protocol";
import { SECTION } from "./settings";
import { OPEN_SETTINGS, SET_TOKEN_COMMAND, Supervisor } from "./supervisor";

export const TOGGLE_COMMAND = "codequorum.toggle";
export const CHOOSE_STRATEGY_COMMAND = "codequorum.chooseStrategy";
export const CHOOSE_MEMBERS_COMMAND = "codequorum.chooseMembers";
export const RECONNECT_COMMAND = "codequorum.reconnect";

interface Entry extends vscode.QuickPickItem {
  run: () => unknown;
}

/** What clicking the status bar offers: the log, the settings, and what can be changed now. */
export async function showMenu(supervisor: Supervisor, output: vscode.LogOutputChannel): Promise<void> {
  const client = supervisor.client?.isRunning() ? supervisor.client : undefined;
  const enabled = vscode.workspace.getConfiguration(SECTION).get("enable", true);
  const entries: Entry[] = [
    { label: "$(output) Show the log", run: () => output.show(true) },
    { label: "$(gear) Open the settings", run: () => vscode.commands.executeCommand("workbench.action.openSettings", OPEN_SETTINGS) },
    { label: enabled ? "$(circle-slash) Disable suggestions" : "$(check) Enable suggestions", run: () => toggle() },
  ];
  if (client !== undefined) {
    entries.push(
      { label: "$(list-selection) Choose the strategy…", run: () => chooseStrategy(client) },
      { label: "$(person) Choose the members…", run: () => chooseMembers(client) },
      { label: "$(graph) Show server counters", run: () => showStats(client) },
    );
  } else if (enabled) {
    entries.push({ label: "$(refresh) Reconnect now", run: () => supervisor.reconnect() });
  }
  if (vscode.workspace.getConfiguration(SECTION).get("remote.address", "") !== "") {
    entries.push({ label: "$(key) Set the server token…", run: () => vscode.commands.executeCommand(SET_TOKEN_COMMAND) });
  }
  const picked = await vscode.window.showQuickPick(entries, { title: "codequorum" });
  await picked?.run();
}

/** Suggestions on or off (a user setting); off stops the local server or the connection. */
export async function toggle(): Promise<void> {
  const config = vscode.workspace.getConfiguration(SECTION);
  await config.update("enable", !config.get("enable", true), vscode.ConfigurationTarget.Global);
}

async function choices(client: LanguageClient): Promise<Choices> {
  return (await client.sendRequest(ExecuteCommandRequest.type, { command: CHOICES_COMMAND })) as Choices;
}

/**
 * The strategy for inline completions, from those the server has; saved as the user setting
 * `codequorum.server.inline_strategy`, which the extension then sends to the server. "Server
 * default" removes the setting, so the server's own configuration applies again.
 */
export async function chooseStrategy(client: LanguageClient): Promise<void> {
  const offered = await choices(client);
  const items = [
    { label: `Server default (${offered.default_strategy})`, value: undefined as string | undefined },
    ...offered.strategies.map((name) => ({ label: name, value: name as string | undefined })),
  ].map((item) => ({ ...item, description: item.value === offered.inline_strategy ? "current" : undefined }));
  const picked = await vscode.window.showQuickPick(items, { title: "codequorum: strategy for inline suggestions" });
  if (picked !== undefined) {
    await vscode.workspace.getConfiguration(SECTION).update("server.inline_strategy", picked.value, vscode.ConfigurationTarget.Global);
  }
}

/** The members asked for inline completions; none picked means every enabled member. */
export async function chooseMembers(client: LanguageClient): Promise<void> {
  const offered = await choices(client);
  const current = new Set(offered.inline_members ?? offered.members);
  const items = offered.members.map((name) => ({ label: name, picked: current.has(name) }));
  const picked = await vscode.window.showQuickPick(items, {
    title: "codequorum: members asked for inline suggestions (none: every enabled member)",
    canPickMany: true,
  });
  if (picked !== undefined) {
    const names = picked.map((item) => item.label);
    const value = names.length === 0 || names.length === offered.members.length ? null : names;
    await vscode.workspace.getConfiguration(SECTION).update("server.inline_members", value, vscode.ConfigurationTarget.Global);
  }
}

/** The token for a remote server, kept in VS Code's secret storage (never in settings). */
export async function setToken(secrets: vscode.SecretStorage, secretKey: string): Promise<boolean> {
  const token = await vscode.window.showInputBox({
    title: "codequorum: server token",
    prompt: "The contents of the server's --token-file. Stored in VS Code's secret storage; empty to remove it.",
    password: true,
    ignoreFocusOut: true,
  });
  if (token === undefined) {
    return false;
  }
  if (token.trim() === "") {
    await secrets.delete(secretKey);
  } else {
    await secrets.store(secretKey, token.trim());
  }
  return true;
}
