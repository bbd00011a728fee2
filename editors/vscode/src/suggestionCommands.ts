import * as vscode from "vscode";
import { FeedbackTracker } from "./feedback";
import { ShownSuggestions, acceptedLength } from "./shown";
import { StatusBar } from "./statusBar";

/**
 * VS Code does not tell a (non-proposed-API) extension which inline suggestion it shows after
 * Alt+] or how much a partial accept took, so the extension binds those keys to commands that
 * run VS Code's own and note what happened: the status bar follows the alternative shown, and
 * word / line accepts are reported as `accepted_partial` with the accepted length.
 */
export function suggestionCommands(shown: ShownSuggestions, status: StatusBar, feedback: FeedbackTracker): vscode.Disposable[] {
  const cycle = (builtin: string, step: number) => async () => {
    await vscode.commands.executeCommand(builtin);
    const now = shown.cycle(step);
    if (now !== undefined) {
      status.suggestion(now.member, shown.rank, shown.count);
      feedback.shown(now.id);
    }
  };
  const acceptPart = (builtin: string) => async () => {
    const before = shown.current; // a new request may replace it while VS Code edits
    await vscode.commands.executeCommand(builtin);
    const editor = vscode.window.activeTextEditor;
    if (before === undefined || editor === undefined || editor.document.uri.toString() !== before.uri) {
      return;
    }
    const start = new vscode.Position(before.line, before.character);
    const cursor = editor.selection.active;
    if (cursor.isAfter(start)) {
      const taken = acceptedLength(before, editor.document.getText(new vscode.Range(start, cursor)));
      if (taken > 0) {
        feedback.partiallyAccepted(before.id, taken);
      }
    }
  };
  return [
    vscode.commands.registerCommand("codequorum.showNextSuggestion", cycle("editor.action.inlineSuggest.showNext", 1)),
    vscode.commands.registerCommand("codequorum.showPreviousSuggestion", cycle("editor.action.inlineSuggest.showPrevious", -1)),
    vscode.commands.registerCommand("codequorum.acceptNextWord", acceptPart("editor.action.inlineSuggest.acceptNextWord")),
    vscode.commands.registerCommand("codequorum.acceptNextLine", acceptPart("editor.action.inlineSuggest.acceptNextLine")),
  ];
}
