import * as vscode from "vscode";
import { SECTION, ServerOptions, serverOptions } from "./settings";

/**
 * The server settings the user has set, in any scope. Settings left at their defaults are not
 * sent, so that the server's configuration file (codequorum.toml) decides them.
 */
export function userServerOptions(extension: vscode.Extension<unknown>): ServerOptions {
  const config = vscode.workspace.getConfiguration(SECTION);
  const names = Object.keys(extension.packageJSON.contributes.configuration.properties).map((key) =>
    key.slice(SECTION.length + 1),
  );
  const set: [string, unknown][] = [];
  for (const name of names) {
    const inspected = config.inspect(name);
    const value = [inspected?.workspaceFolderValue, inspected?.workspaceValue, inspected?.globalValue].find(
      (scoped) => scoped !== undefined,
    );
    if (value !== undefined) {
      set.push([name, value]);
    }
  }
  return serverOptions(set);
}
