import * as vscode from "vscode";
import { DidChangeConfigurationNotification, LanguageClient } from "vscode-languageclient/node";
import { notProvided, showStats } from "./commands";
import { userServerOptions } from "./configuration";
import { FeedbackTracker } from "./feedback";
import { middleware } from "./middleware";
import { FIX_COMMAND, FeedbackNotification } from "./protocol";
import { SECTION } from "./settings";
import { SHOW_STATS_COMMAND, WinnerStatus } from "./statusBar";

/** Documents in these languages are sent to the server: those it has language plugins for. */
const LANGUAGES = [
  "python", "javascript", "javascriptreact", "typescript", "typescriptreact",
  "go", "rust", "java", "c", "cpp",
];

let client: LanguageClient | undefined;

export async function activate(context: vscode.ExtensionContext): Promise<void> {
  const status = new WinnerStatus();
  const feedback = new FeedbackTracker((params) => void client?.sendNotification(FeedbackNotification, params));
  const command = vscode.workspace.getConfiguration(SECTION).get("path", "codequorum");
  const languageClient = new LanguageClient(
    "codequorum",
    "codequorum",
    { command, args: ["serve", "--stdio"] },
    {
      documentSelector: LANGUAGES.flatMap((language) => [
        { scheme: "file", language },
        { scheme: "untitled", language },
      ]),
      initializationOptions: userServerOptions(context.extension),
      middleware: middleware(status, feedback),
    },
  );
  client = languageClient;
  languageClient.registerProposedFeatures(); // textDocument/inlineCompletion (LSP 3.18)
  context.subscriptions.push(
    status,
    vscode.window.onDidChangeActiveTextEditor(() => feedback.dismissShown()),
    vscode.workspace.onDidChangeConfiguration((event) => {
      if (event.affectsConfiguration(SECTION) && languageClient.isRunning()) {
        const settings = userServerOptions(context.extension);
        void languageClient.sendNotification(DidChangeConfigurationNotification.type, { settings });
      }
    }),
    vscode.commands.registerCommand(SHOW_STATS_COMMAND, () => showStats(languageClient)),
  );
  try {
    await languageClient.start();
  } catch (error) {
    void vscode.window.showErrorMessage(
      `codequorum: \`${command} serve --stdio\` did not start (${error}). Set codequorum.path ` +
        "to the codequorum executable, e.g. .venv/bin/codequorum in a codequorum checkout.",
    );
    return;
  }
  const commands = languageClient.initializeResult?.capabilities.executeCommandProvider?.commands ?? [];
  if (!commands.includes(FIX_COMMAND)) {
    context.subscriptions.push(notProvided(FIX_COMMAND));
  }
}

export function deactivate(): Promise<void> | undefined {
  return client?.stop();
}
