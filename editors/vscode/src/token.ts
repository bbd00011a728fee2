/**
 * The token a remote server asks for (its --token-file), sent as initializationOptions.token.
 * It is never a setting: it comes from VS Code's secret storage (codequorum: Set the server
 * token), an environment variable, or a file, whose names are settings.
 */
import { readFileSync } from "node:fs";
import { homedir } from "node:os";

export interface TokenSources {
  secret: string | undefined; // from SecretStorage
  envName: string; // codequorum.remote.tokenEnv
  file: string; // codequorum.remote.tokenFile
  env: NodeJS.ProcessEnv;
}

export class TokenError extends Error {}

/** The first of: the stored secret, the environment variable, the file; undefined if none. */
export function findToken(sources: TokenSources): string | undefined {
  const fromSecret = sources.secret?.trim();
  if (fromSecret) {
    return fromSecret;
  }
  const fromEnv = sources.envName ? sources.env[sources.envName]?.trim() : undefined;
  if (fromEnv) {
    return fromEnv;
  }
  if (!sources.file) {
    return undefined;
  }
  const path = sources.file.replace(/^~(?=$|\/)/, homedir());
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (error) {
    throw new TokenError(`cannot read the token file ${path} (codequorum.remote.tokenFile): ${(error as Error).message}`);
  }
  const token = text.trim();
  if (!token) {
    throw new TokenError(`the token file ${path} (codequorum.remote.tokenFile) is empty`);
  }
  return token;
}
