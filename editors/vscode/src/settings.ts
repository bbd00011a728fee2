/**
 * The server's settings from the extension's: `codequorum.engine.max_tokens` becomes
 * `{ engine: { max_tokens } }`, the TOML schema as JSON, which the server takes as
 * initializationOptions and in workspace/didChangeConfiguration and lays over its
 * configuration file (docs/configuration.md).
 */

export const SECTION = "codequorum";

/** Settings of the extension itself, which the server does not know. */
export const CLIENT_SETTINGS: ReadonlySet<string> = new Set([
  "path", "enable", "remote.address", "remote.tokenEnv", "remote.tokenFile", "remote.caFile",
]);

export interface ServerOptions {
  [key: string]: unknown;
}

/** `settings`: [name under the section, value] for each setting the user has set. */
export function serverOptions(settings: Iterable<readonly [string, unknown]>): ServerOptions {
  const options: ServerOptions = {};
  for (const [name, value] of settings) {
    if (CLIENT_SETTINGS.has(name)) {
      continue;
    }
    const path = name.split(".");
    const leaf = path.pop() as string;
    let table = options;
    for (const key of path) {
      table = (table[key] ??= {}) as ServerOptions;
    }
    table[leaf] = value;
  }
  return options;
}
