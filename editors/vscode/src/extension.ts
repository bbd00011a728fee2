import * as vscode from "vscode";
import { DidChangeConfigurationNotification, LanguageClient } from "vscode-languageclient/node";
import { notProvided, showStats } from "./commands";
import { userServerOptions } from "./configuration";
import { FeedbackTracker } from "./feedback";
import { CHOOSE_MEMBERS_COMMAND, CHOOSE_STRATEGY_COMMAND, RECONNECT_COMMAND, TOGGLE_COMMAND, chooseMembers, chooseStrategy, setToken, showMenu, toggle } from "./menu";
import { middleware } from "./middleware";
import { FIX_COMMAND, FeedbackNotification } from "./protocol";
import { SECTION } from "./settings";
import { ShownSuggestions } from "./shown";
import { MENU_COMMAND, StatusBar } from "./statusBar";
import { suggestionCommands } from "./suggestionCommands";
import { SECRET_KEY, SET_TOKEN_COMMAND, Supervisor } from "./supervisor";

/** Documents in these languages are sent to the server: those it has language plugins for. */
const LANGUAGES = [
  "python", "javascript", "javascriptreact", "typescript", "typescriptreact",
  "go", "rust", "java", "c", "cpp",
];

/** Settings whose change means a new server or connection, not new server settings. */
const CONNECTION_SETTINGS = ["enable", "path", "remote"].map((name) => `${SECTION}.${name}`);

let supervisor: Supervisor | undefined;

export async function activate(context: vscode.ExtensionContext): Promise<void> {
  const output = vscode.window.createOutputChannel("codequorum", { log: true });
  const status = new StatusBar();
  const shown = new ShownSuggestions();
  let client: LanguageClient | undefined;
  let fallbacks: vscode.Disposable[] = [];
  const feedback = new FeedbackTracker((params) => void client?.sendNotification(FeedbackNotification, params));
  const running = supervisor = new Supervisor(context, status, {
    documentSelector: LANGUAGES.flatMap((language) => [
      { scheme: "file", language },
      { scheme: "untitled", language },
    ]),
    initializationOptions: () => userServerOptions(context.extension),
    middleware: middleware(status, feedback, shown),
    outputChannel: output,
    onClient: (next) => {
      client = next;
      shown.clear();
      fallbacks.forEach((fallback) => fallback.dispose());
      fallbacks = [];
    },
  });
  const withClient = (run: (client: LanguageClient) => unknown) => () => {
    if (client?.isRunning()) {
      return run(client);
    }
    void vscode.window.showWarningMessage("codequorum: the server is not running; click codequorum in the status bar.");
    return undefined;
  };
  context.subscriptions.push(
    output,
    status,
    running,
    vscode.window.onDidChangeActiveTextEditor(() => feedback.dismissShown()),
    vscode.workspace.onDidChangeConfiguration((event) => {
      if (CONNECTION_SETTINGS.some((name) => event.affectsConfiguration(name))) {
        void running.start();
      } else if (event.affectsConfiguration(SECTION) && client?.isRunning()) {
        const settings = userServerOptions(context.extension);
        void client.sendNotification(DidChangeConfigurationNotification.type, { settings });
      }
    }),
    vscode.commands.registerCommand(MENU_COMMAND, () => showMenu(running, output)),
    vscode.commands.registerCommand("codequorum.showStats", withClient(showStats)),
    vscode.commands.registerCommand(TOGGLE_COMMAND, toggle),
    vscode.commands.registerCommand(CHOOSE_STRATEGY_COMMAND, withClient(chooseStrategy)),
    vscode.commands.registerCommand(CHOOSE_MEMBERS_COMMAND, withClient(chooseMembers)),
    vscode.commands.registerCommand(RECONNECT_COMMAND, () => running.reconnect()),
    vscode.commands.registerCommand(SET_TOKEN_COMMAND, async () => {
      if (await setToken(context.secrets, SECRET_KEY)) {
        await running.start();
      }
    }),
    ...suggestionCommands(shown, status, feedback),
    { dispose: () => fallbacks.forEach((fallback) => fallback.dispose()) },
  );
  status.set({ kind: "starting", where: "the server" });
  await running.start();
  const commands = client?.initializeResult?.capabilities.executeCommandProvider?.commands;
  if (commands !== undefined && !commands.includes(FIX_COMMAND)) {
    fallbacks.push(notProvided(FIX_COMMAND));
  }
}

export function deactivate(): Promise<void> | undefined {
  return supervisor?.stop();
}
