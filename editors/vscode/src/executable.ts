/** Whether the server executable can be run, checked before starting it, so that a missing
 * `codequorum` gives one message that says what to do rather than the client's generic ones. */
import { accessSync, constants, statSync } from "node:fs";
import { delimiter, isAbsolute, join } from "node:path";

export function findExecutable(command: string, env: NodeJS.ProcessEnv, cwd: string | undefined): string | undefined {
  const candidates = command.includes("/")
    ? [isAbsolute(command) || cwd === undefined ? command : join(cwd, command)]
    : (env.PATH ?? "").split(delimiter).filter(Boolean).map((dir) => join(dir, command));
  return candidates.find(isExecutableFile);
}

function isExecutableFile(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return statSync(path).isFile();
  } catch {
    return false;
  }
}
