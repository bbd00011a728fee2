import * as vscode from "vscode";

export const MENU_COMMAND = "codequorum.menu";

/** Where the extension stands with its server, as the status bar shows it. */
export type ServerState =
  | { kind: "starting"; where: string }
  | { kind: "loading"; where: string }
  | { kind: "ready"; where: string }
  | { kind: "disconnected"; where: string; retryInS: number; reason: string }
  | { kind: "error"; where: string; message: string }
  | { kind: "disabled" };

const CLICK = "Click for the log, the settings and the choices.";

/**
 * The status bar item: the server's state, and once it is ready the member that proposed the
 * suggestion on screen (following Alt+] / Alt+[ through the alternatives).
 */
export class StatusBar implements vscode.Disposable {
  private readonly item = vscode.window.createStatusBarItem("codequorum.status", vscode.StatusBarAlignment.Right, 100);
  private state: ServerState = { kind: "disabled" };

  constructor() {
    this.item.name = "codequorum";
    this.item.command = MENU_COMMAND;
    this.item.show();
  }

  get current(): ServerState {
    return this.state;
  }

  set(state: ServerState): void {
    this.state = state;
    this.item.backgroundColor = undefined;
    switch (state.kind) {
      case "starting":
        this.show("$(loading~spin) codequorum", `codequorum: connecting to ${state.where}.`);
        break;
      case "loading":
        this.show("$(loading~spin) codequorum: loading models", `codequorum: ${state.where} is loading its models; suggestions start when it is done.`);
        break;
      case "ready":
        this.show("$(sparkle) codequorum", `codequorum: ready (${state.where}); no suggestion yet.`);
        break;
      case "disconnected":
        this.show("$(debug-disconnect) codequorum", `codequorum: disconnected from ${state.where} (${state.reason}); retrying in ${state.retryInS} s.`);
        this.item.backgroundColor = new vscode.ThemeColor("statusBarItem.warningBackground");
        break;
      case "error":
        this.show("$(error) codequorum", `codequorum: ${state.message}`);
        this.item.backgroundColor = new vscode.ThemeColor("statusBarItem.errorBackground");
        break;
      case "disabled":
        this.show("$(circle-slash) codequorum", "codequorum is disabled (codequorum: Enable or disable suggestions).");
        break;
    }
  }

  /** The member that proposed the suggestion VS Code shows, and its rank among `count`. */
  suggestion(member: string, rank: number, count: number): void {
    if (this.state.kind !== "ready") {
      return;
    }
    const ranked = count > 1 ? ` ${rank}/${count}` : "";
    const alternatives = count > 1 ? ` It is ${rank} of ${count} ranked suggestions (Alt+] and Alt+[ go through them).` : "";
    this.show(`$(sparkle) ${member}${ranked}`, `codequorum: the suggestion shown was proposed by ${member}.${alternatives}`);
  }

  private show(text: string, tooltip: string): void {
    this.item.text = text;
    this.item.tooltip = `${tooltip} ${CLICK}`;
  }

  dispose(): void {
    this.item.dispose();
  }
}
