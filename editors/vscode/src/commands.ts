import * as vscode from "vscode";
import { ExecuteCommandRequest, LanguageClient } from "vscode-languageclient/node";
import { FIX_COMMAND, GENERATE_COMMAND, GenerateResult, Place, STATS_COMMAND } from "./protocol";

/** Server commands that work at a place; run from the palette they get the active editor's. */
export const PLACE_COMMANDS: ReadonlySet<string> = new Set([GENERATE_COMMAND, FIX_COMMAND]);

/** The active editor's selection, or the line of its cursor (a comment saying what to write). */
export function activePlace(): Place | undefined {
  const editor = vscode.window.activeTextEditor;
  if (editor === undefined) {
    return undefined;
  }
  const uri = editor.document.uri.toString();
  const { selection } = editor;
  if (selection.isEmpty) {
    return { uri, line: selection.active.line };
  }
  const { start, end } = selection;
  return {
    uri,
    range: { start: { line: start.line, character: start.character }, end: { line: end.line, character: end.character } },
  };
}

/** The server applies generated code itself (workspace/applyEdit); say why when it did not. */
export function reportGenerated(result: GenerateResult | undefined): void {
  if (result !== undefined && !result.applied) {
    const why = result.reason ?? "VS Code did not apply the edit";
    void vscode.window.showWarningMessage(`codequorum: nothing generated (${why}).`);
  }
}

/** Stands in for a server command this server does not provide. */
export function notProvided(command: string): vscode.Disposable {
  return vscode.commands.registerCommand(command, () =>
    vscode.window.showInformationMessage(
      `codequorum: ${command} is not available yet: this codequorum server does not provide it.`,
    ),
  );
}

export async function showStats(client: LanguageClient): Promise<void> {
  const stats: unknown = await client.sendRequest(ExecuteCommandRequest.type, { command: STATS_COMMAND });
  client.outputChannel.appendLine(JSON.stringify(stats, null, 2));
  client.outputChannel.show(true);
}
