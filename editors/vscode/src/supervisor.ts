import { readFileSync } from "node:fs";
import * as vscode from "vscode";
import {
  CloseAction,
  ErrorAction,
  LanguageClient,
  LanguageClientOptions,
  Middleware,
  ResponseError,
  ServerOptions,
} from "vscode-languageclient/node";
import { AddressError, ServerAddress, describeAddress, parseAddress } from "./address";
import { Backoff } from "./backoff";
import { findExecutable } from "./executable";
import { StatusNotification } from "./protocol";
import { ServerState, StatusBar } from "./statusBar";
import { TokenError, findToken } from "./token";
import { TlsOptions, Transport, connectTcp, connectWebSocket } from "./transport";

export const SECRET_KEY = "codequorum.serverToken";
const UNAUTHORIZED = -32001; // the server's answer to a missing or wrong token
const MAX_LOCAL_RESTARTS = 4; // a local server that keeps exiting is an error, not a blip
const SETTINGS_QUERY = "@ext:codequorum.codequorum";

/** What the extension needs to build a client; the rest is the supervisor's business. */
export interface ClientSetup {
  documentSelector: LanguageClientOptions["documentSelector"];
  initializationOptions: () => Record<string, unknown>;
  middleware: Middleware;
  outputChannel: vscode.LogOutputChannel;
  onClient: (client: LanguageClient | undefined) => void;
}

/** The client's own pop-ups are off: the supervisor says once what went wrong, with a way out. */
class QuietLanguageClient extends LanguageClient {
  override error(message: string, data?: unknown): void {
    super.error(message, data, false);
  }
}

/**
 * Starts the server (or connects to a running one), follows its state into the status bar,
 * and reconnects with backoff when the connection drops. One client at a time; each
 * reconnection builds a new one. `generation` tells a stale attempt that it was superseded.
 */
export class Supervisor implements vscode.Disposable {
  client: LanguageClient | undefined;
  private generation = 0;
  private readonly backoff = new Backoff();
  private retry: NodeJS.Timeout | undefined;
  private localRestarts = 0;

  constructor(
    private readonly context: vscode.ExtensionContext,
    private readonly status: StatusBar,
    private readonly setup: ClientSetup,
  ) {}

  /** (Re)start from the current settings. */
  async start(): Promise<void> {
    await this.stop();
    this.backoff.reset();
    this.localRestarts = 0;
    if (!vscode.workspace.getConfiguration("codequorum").get("enable", true)) {
      this.status.set({ kind: "disabled" });
      return;
    }
    await this.attempt(this.generation);
  }

  async stop(): Promise<void> {
    this.generation += 1;
    clearTimeout(this.retry);
    const client = this.client;
    this.setClient(undefined);
    if (client !== undefined) {
      await client.dispose(2000).catch((error) => this.setup.outputChannel.warn(`stopping the client: ${error}`));
    }
  }

  /** Try again now (the status bar menu's "Reconnect"). */
  async reconnect(): Promise<void> {
    await this.start();
  }

  dispose(): void {
    void this.stop();
  }

  private async attempt(generation: number): Promise<void> {
    const config = vscode.workspace.getConfiguration("codequorum");
    let address: ServerAddress;
    try {
      address = parseAddress(config.get("remote.address", ""));
    } catch (error) {
      return this.fail(error instanceof AddressError ? `codequorum.remote.address: ${error.message}` : String(error));
    }
    const where = describeAddress(address);
    this.status.set({ kind: "starting", where });
    let server: ServerOptions;
    let token: string | undefined;
    if (address.kind === "stdio") {
      const command = config.get("path", "codequorum");
      const cwd = vscode.workspace.workspaceFolders?.[0]?.uri.fsPath;
      const executable = findExecutable(command, process.env, cwd);
      if (executable === undefined) {
        return this.fail(
          `cannot find the codequorum executable \`${command}\`. Install codequorum (pip install codequorum), ` +
            "set codequorum.path to it (e.g. .venv/bin/codequorum), or set codequorum.remote.address to a running server.",
        );
      }
      server = { command: executable, args: ["serve", "--stdio"], options: { cwd } };
    } else {
      try {
        token = findToken({
          secret: await this.context.secrets.get(SECRET_KEY),
          envName: config.get("remote.tokenEnv", "CODEQUORUM_TOKEN"),
          file: config.get("remote.tokenFile", ""),
          env: process.env,
        });
      } catch (error) {
        return this.fail(error instanceof TokenError ? error.message : String(error));
      }
      let tls: TlsOptions | undefined;
      try {
        tls = address.kind === "tcp" && address.tls ? tlsOptions(config.get("remote.caFile", "")) : undefined;
      } catch (error) {
        return this.fail((error as Error).message);
      }
      let transport: Transport;
      try {
        transport = await (address.kind === "tcp" ? connectTcp(address.host, address.port, tls) : connectWebSocket(address.url));
      } catch (error) {
        return this.later(generation, where, (error as Error).message);
      }
      if (generation !== this.generation) {
        transport.close();
        return;
      }
      server = () => Promise.resolve({ reader: transport.reader, writer: transport.writer });
    }
    await this.run(generation, address, where, server, token);
  }

  private async run(generation: number, address: ServerAddress, where: string, server: ServerOptions,
                    token: string | undefined): Promise<void> {
    let refused: unknown;
    let heard = false;
    let started = false; // until then a failure is start()'s to report, not a dropped connection
    const client = new QuietLanguageClient("codequorum", "codequorum", server, {
      documentSelector: this.setup.documentSelector,
      outputChannel: this.setup.outputChannel,
      initializationOptions: () => ({ ...this.setup.initializationOptions(), ...(token ? { token } : {}) }),
      middleware: this.setup.middleware,
      initializationFailedHandler: (error) => {
        refused = error;
        return false;
      },
      errorHandler: {
        error: (_error, _message, count) => ({ action: (count ?? 0) < 3 ? ErrorAction.Continue : ErrorAction.Shutdown, handled: true }),
        closed: () => {
          if (started) {
            setImmediate(() => this.closed(generation, address, where));
          }
          return { action: CloseAction.DoNotRestart, handled: true };
        },
      },
    });
    client.onNotification(StatusNotification, (status) => {
      heard = true;
      if (generation === this.generation) {
        this.status.set(serverState(status, where));
      }
    });
    this.setClient(client);
    try {
      await client.start();
    } catch (error) {
      if (generation !== this.generation) {
        return;
      }
      this.setClient(undefined);
      void client.dispose().catch(() => undefined);
      if (refused instanceof ResponseError && refused.code === UNAUTHORIZED) {
        return this.fail(`${where} refused the token: ${refused.message}`, true);
      }
      if (address.kind !== "stdio") {
        return this.later(generation, where, String(refused ?? error));
      }
      return this.fail(`\`codequorum serve --stdio\` did not start: ${refused ?? error}. See the log.`);
    }
    started = true;
    if (generation !== this.generation) {
      return;
    }
    this.backoff.reset();
    if (!heard) {
      this.status.set({ kind: "ready", where }); // a server without codequorum/status
    }
  }

  private closed(generation: number, address: ServerAddress, where: string): void {
    if (generation !== this.generation) {
      return; // stopped on purpose
    }
    this.setClient(undefined);
    if (address.kind === "stdio" && ++this.localRestarts > MAX_LOCAL_RESTARTS) {
      this.fail(`the local server exited ${this.localRestarts} times; see the log for why.`);
      return;
    }
    this.later(generation, where, address.kind === "stdio" ? "the server exited" : "the connection closed");
  }

  /** Wait out the backoff, then try again; the status bar says so. */
  private later(generation: number, where: string, reason: string): void {
    if (generation !== this.generation) {
      return;
    }
    const delay = this.backoff.next();
    this.setup.outputChannel.warn(`${where}: ${reason}; retrying in ${delay / 1000} s`);
    this.status.set({ kind: "disconnected", where, retryInS: delay / 1000, reason });
    this.retry = setTimeout(() => {
      if (generation === this.generation) {
        void this.attempt(generation);
      }
    }, delay);
  }

  /** One message, with the buttons that fix it; the status bar stays red until then. */
  private fail(message: string, tokenProblem = false): void {
    this.setup.outputChannel.error(message);
    this.status.set({ kind: "error", where: "", message });
    const buttons = tokenProblem ? ["Set Token", "Open Settings", "Show Log"] : ["Open Settings", "Show Log"];
    void vscode.window.showErrorMessage(`codequorum: ${message}`, ...buttons).then((choice) => {
      if (choice === "Open Settings") {
        void vscode.commands.executeCommand("workbench.action.openSettings", SETTINGS_QUERY);
      } else if (choice === "Show Log") {
        this.setup.outputChannel.show(true);
      } else if (choice === "Set Token") {
        void vscode.commands.executeCommand(SET_TOKEN_COMMAND);
      }
    });
  }

  private setClient(client: LanguageClient | undefined): void {
    this.client = client;
    this.setup.onClient(client);
  }
}

export const SET_TOKEN_COMMAND = "codequorum.setToken";
export const OPEN_SETTINGS = SETTINGS_QUERY;

function serverState(status: { state: string; message?: string }, where: string): ServerState {
  switch (status.state) {
    case "loading":
      return { kind: "loading", where };
    case "error":
      return { kind: "error", where, message: status.message ?? "the server could not load its models" };
    default:
      return { kind: "ready", where };
  }
}

/** `codequorum.remote.caFile`: the CA that signed a private server's certificate, if any. */
function tlsOptions(caFile: string): TlsOptions {
  if (caFile.trim() === "") {
    return {};
  }
  try {
    return { ca: readFileSync(caFile.trim()) };
  } catch (error) {
    throw new Error(`cannot read the CA file ${caFile} (codequorum.remote.caFile): ${(error as Error).message}`);
  }
}
