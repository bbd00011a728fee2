import * as vscode from "vscode";

export const SHOW_STATS_COMMAND = "codequorum.showStats";

/** The status bar item: which member proposed the suggestion VS Code is showing. */
export class WinnerStatus implements vscode.Disposable {
  private readonly item = vscode.window.createStatusBarItem("codequorum.winner", vscode.StatusBarAlignment.Right, 100);

  constructor() {
    this.item.name = "codequorum";
    this.item.command = SHOW_STATS_COMMAND;
    this.item.text = "$(sparkle) codequorum";
    this.item.tooltip = "codequorum: no suggestion yet. Click for the server's counters.";
    this.item.show();
  }

  winner(member: string, alternatives: number): void {
    this.item.text = `$(sparkle) ${member}`;
    const others = alternatives === 1 ? "1 ranked alternative" : `${alternatives} ranked alternatives`;
    this.item.tooltip =
      `codequorum: the suggestion shown was proposed by ${member}; ${others} ` +
      "(Alt+] and Alt+[ show them). Click for the server's counters.";
  }

  dispose(): void {
    this.item.dispose();
  }
}
