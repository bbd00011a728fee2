/** codequorum's extensions to LSP, as the server defines them (src/codequorum/server/extensions.py). */
import { NotificationType, Range } from "vscode-languageserver-protocol";

export const ACCEPT_COMMAND = "codequorum.accept"; // arguments: [suggestion id]
export const GENERATE_COMMAND = "codequorum.generate"; // arguments: [Place]
export const FIX_COMMAND = "codequorum.fix"; // arguments: [Place]; the server finds the function from the failing tests
export const STATS_COMMAND = "codequorum.stats"; // no arguments; the session's counters
export const CHOICES_COMMAND = "codequorum.choices"; // no arguments; strategies and members to pick from

export type FeedbackEvent = "shown" | "accepted" | "accepted_partial" | "dismissed";

export interface FeedbackParams {
  id: string;
  event: FeedbackEvent;
  accepted_chars?: number; // accepted_partial only: how much of the suggestion was taken
}

export const FeedbackNotification = new NotificationType<FeedbackParams>("codequorum/feedback");

/** Sent by the server around the warm-up that loads the models (features/status.py). */
export interface ServerStatus {
  state: "loading" | "ready" | "error";
  seconds?: number;
  message?: string;
}

export const StatusNotification = new NotificationType<ServerStatus>("codequorum/status");

/** What `codequorum.choices` answers. */
export interface Choices {
  strategies: string[];
  members: string[];
  inline_strategy: string | null;
  inline_members: string[] | null;
  default_strategy: string; // what inline completions use when the client picks none
}

/** Where generate works: the selected range, or the comment on a line (0-based). */
export type Place = { uri: string; range: Range } | { uri: string; line: number };

/** What `codequorum.generate` answers. */
export interface GenerateResult {
  applied: boolean;
  text: string;
  reason?: string;
  member?: string;
}

interface CommandLike {
  title: string;
  command: string;
  arguments?: unknown[];
}

/** Which member proposed a suggestion, and the id to report feedback under. */
export interface Origin {
  id: string;
  member: string;
}

/**
 * Both travel in an inline item's command: `codequorum.accept` with the id as its argument,
 * titled "codequorum: MEMBER".
 */
export function originOf(command: CommandLike | undefined): Origin | undefined {
  if (command?.command !== ACCEPT_COMMAND) {
    return undefined;
  }
  const id = command.arguments?.[0];
  const member = /^codequorum: (.+)$/.exec(command.title)?.[1];
  return typeof id === "string" && member !== undefined ? { id, member } : undefined;
}
