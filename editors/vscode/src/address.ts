/** Where the language server is: started here over stdio (the default), or a running one. */

export type ServerAddress =
  | { kind: "stdio" }
  | { kind: "tcp"; host: string; port: number; tls: boolean }
  | { kind: "ws"; url: string };

export class AddressError extends Error {}

const EXAMPLES = "tcp://HOST:PORT, tls://HOST:PORT, ws://HOST:PORT/ or wss://HOST/PATH (empty: start a local server)";

/** `codequorum.remote.address`: "" (start `codequorum serve --stdio`), tcp://, tls://, ws:// or wss://. */
export function parseAddress(text: string): ServerAddress {
  const trimmed = text.trim();
  if (trimmed === "") {
    return { kind: "stdio" };
  }
  let url: URL;
  try {
    url = new URL(trimmed);
  } catch {
    throw new AddressError(`"${trimmed}" is not an address: use ${EXAMPLES}.`);
  }
  if (url.protocol === "ws:" || url.protocol === "wss:") {
    return { kind: "ws", url: url.toString() };
  }
  if (url.protocol !== "tcp:" && url.protocol !== "tls:") {
    throw new AddressError(`"${trimmed}": ${url.protocol.slice(0, -1)} is not supported; use ${EXAMPLES}.`);
  }
  const port = Number(url.port);
  const scheme = url.protocol.slice(0, -1);
  if (url.hostname === "" || !Number.isInteger(port) || port <= 0) {
    throw new AddressError(`"${trimmed}" needs a host and a port: ${scheme}://HOST:PORT.`);
  }
  return { kind: "tcp", host: url.hostname.replace(/^\[(.*)\]$/, "$1"), port, tls: scheme === "tls" };
}

export function describeAddress(address: ServerAddress): string {
  switch (address.kind) {
    case "stdio":
      return "a local server (stdio)";
    case "tcp":
      return `${address.tls ? "tls" : "tcp"}://${address.host.includes(":") ? `[${address.host}]` : address.host}:${address.port}`;
    case "ws":
      return address.url;
  }
}
