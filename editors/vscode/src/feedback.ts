import { FeedbackParams } from "./protocol";

/**
 * Feedback from what VS Code's stable API lets an extension see. The suggestions handed to VS
 * Code are reported `shown` as they come on screen (the best one, then each alternative that
 * Alt+] / Alt+[ brings up); those seen are `dismissed` when the next request comes (or the
 * editor changes) before they were accepted. Acceptance itself reaches the server through the
 * item's `codequorum.accept` command, which VS Code runs; `accepted` only stops the dismissal.
 * A partial accept (a word or a line) is reported with how much was taken, and is not
 * dismissed afterwards.
 */
export class FeedbackTracker {
  private readonly seen = new Set<string>();

  constructor(private readonly send: (params: FeedbackParams) => void) {}

  shown(id: string): void {
    if (!this.seen.has(id)) {
      this.seen.add(id);
      this.send({ id, event: "shown" });
    }
  }

  accepted(id: string): void {
    this.seen.delete(id);
  }

  partiallyAccepted(id: string, acceptedChars: number): void {
    this.seen.delete(id);
    this.send({ id, event: "accepted_partial", accepted_chars: acceptedChars });
  }

  dismissShown(): void {
    for (const id of this.seen) {
      this.send({ id, event: "dismissed" });
    }
    this.seen.clear();
  }
}
