/**
 * Connections to a running `codequorum serve --tcp` (LSP with Content-Length headers over the
 * socket; in TLS when it runs with --tls-cert: the certificate is checked against the system's
 * CAs, NODE_EXTRA_CA_CERTS, or the CA file the settings name) or `--ws` (one JSON-RPC message per WebSocket frame, no headers; pygls sends them
 * as binary frames of UTF-8 JSON, a proxy may turn them into text frames: both are read).
 * Nothing here needs VS Code, so the Node test connects the same way.
 */
import { Socket, connect } from "node:net";
import { connect as connectTls } from "node:tls";
import {
  AbstractMessageReader,
  AbstractMessageWriter,
  DataCallback,
  Disposable,
  Message,
  MessageReader,
  MessageWriter,
  SocketMessageReader,
  SocketMessageWriter,
} from "vscode-languageserver-protocol/node";
import WebSocket from "ws";

export interface Transport {
  reader: MessageReader;
  writer: MessageWriter;
  close(): void;
}

const CONNECT_TIMEOUT_MS = 10_000;

export interface TlsOptions {
  ca?: Buffer; // a private CA's certificate (PEM); else the system's and NODE_EXTRA_CA_CERTS
}

export function connectTcp(host: string, port: number, tls?: TlsOptions): Promise<Transport> {
  return new Promise((resolve, reject) => {
    const socket: Socket = tls
      ? connectTls({ host, port, timeout: CONNECT_TIMEOUT_MS, ca: tls.ca, servername: isIp(host) ? undefined : host })
      : connect({ host, port, timeout: CONNECT_TIMEOUT_MS });
    const fail = (error: Error) => {
      socket.destroy();
      reject(error);
    };
    socket.once("error", fail);
    socket.once("timeout", () => fail(new Error(`no answer from ${host}:${port} in ${CONNECT_TIMEOUT_MS / 1000} s`)));
    socket.once(tls ? "secureConnect" : "connect", () => {
      socket.off("error", fail);
      socket.setTimeout(0);
      socket.setKeepAlive(true, 30_000);
      resolve({ reader: new SocketMessageReader(socket), writer: new SocketMessageWriter(socket), close: () => socket.destroy() });
    });
  });
}

function isIp(host: string): boolean {
  return /^[\d.]+$/.test(host) || host.includes(":");
}

export function connectWebSocket(url: string): Promise<Transport> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(url, { handshakeTimeout: CONNECT_TIMEOUT_MS });
    const fail = (error: Error) => {
      socket.terminate();
      reject(error);
    };
    socket.once("error", fail);
    socket.once("unexpected-response", (_request, response) =>
      fail(new Error(`${url} answered HTTP ${response.statusCode} instead of a WebSocket`)),
    );
    socket.once("open", () => {
      socket.off("error", fail);
      resolve({ reader: new WebSocketReader(socket), writer: new WebSocketWriter(socket), close: () => socket.close() });
    });
  });
}

class WebSocketReader extends AbstractMessageReader {
  constructor(private readonly socket: WebSocket) {
    super();
    socket.on("error", (error) => this.fireError(error));
    socket.on("close", () => this.fireClose());
  }

  listen(callback: DataCallback): Disposable {
    const onMessage = (data: WebSocket.RawData) => {
      try {
        const bytes = Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data as ArrayBuffer);
        callback(JSON.parse(bytes.toString("utf8")) as Message);
      } catch (error) {
        this.fireError(error);
      }
    };
    this.socket.on("message", onMessage);
    return Disposable.create(() => this.socket.off("message", onMessage));
  }
}

class WebSocketWriter extends AbstractMessageWriter implements MessageWriter {
  private errors = 0;

  constructor(private readonly socket: WebSocket) {
    super();
    socket.on("close", () => this.fireClose());
  }

  write(message: Message): Promise<void> {
    return new Promise((resolve, reject) => {
      this.socket.send(JSON.stringify(message), (error) => {
        if (error) {
          this.fireError(error, message, ++this.errors);
          reject(error);
        } else {
          this.errors = 0;
          resolve();
        }
      });
    });
  }

  end(): void {
    this.socket.close();
  }
}
