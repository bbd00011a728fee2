import * as vscode from "vscode";
import { Middleware } from "vscode-languageclient/node";
import { PLACE_COMMANDS, activePlace, reportGenerated } from "./commands";
import { FeedbackTracker } from "./feedback";
import { ACCEPT_COMMAND, GENERATE_COMMAND, GenerateResult, originOf } from "./protocol";
import { Shown, ShownSuggestions } from "./shown";
import { StatusBar } from "./statusBar";

/**
 * What the extension adds to the language client's own handling: the status bar and feedback
 * follow the inline suggestions, and generate run from the palette gets its place.
 */
export function middleware(status: StatusBar, feedback: FeedbackTracker, shown: ShownSuggestions): Middleware {
  return {
    // The server's classic completions are for clients without inline ones. VS Code would ask
    // for both on every keystroke, and the server keeps one query per document, so each would
    // stop the other's models.
    provideCompletionItem: () => undefined,

    async provideInlineCompletionItems(document, position, context, token, next) {
      feedback.dismissShown();
      shown.clear();
      const result = await next(document, position, context, token);
      const items = (Array.isArray(result) ? result : result?.items) ?? [];
      if (token.isCancellationRequested) {
        return result;
      }
      shown.replace(items.flatMap((item) => shownItem(item, document.uri.toString(), position)));
      const best = shown.current;
      if (best !== undefined) {
        status.suggestion(best.member, 1, shown.count);
        feedback.shown(best.id);
      }
      return result;
    },

    async executeCommand(command, args, next) {
      if (command === ACCEPT_COMMAND) {
        feedback.accepted(args[0]);
      }
      if (PLACE_COMMANDS.has(command) && args.length === 0) {
        const place = activePlace();
        if (place === undefined) {
          void vscode.window.showWarningMessage(`codequorum: open a file to run ${command}.`);
          return undefined;
        }
        args = [place];
      }
      const result: unknown = await next(command, args);
      if (command === GENERATE_COMMAND) {
        reportGenerated(result as GenerateResult | undefined);
      }
      return result;
    },
  };
}

function shownItem(item: vscode.InlineCompletionItem, uri: string, position: vscode.Position): Shown[] {
  const origin = originOf(item.command);
  if (origin === undefined) {
    return [];
  }
  const text = typeof item.insertText === "string" ? item.insertText : item.insertText.value;
  const start = item.range?.start ?? position;
  return [{ ...origin, text, uri, line: start.line, character: start.character }];
}
