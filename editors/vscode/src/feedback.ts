import { FeedbackParams } from "./protocol";

/**
 * Feedback from what VS Code's stable API lets an extension see. The suggestion handed to VS
 * Code is the one it shows; it was dismissed when the next request comes (or the editor
 * changes) before it was accepted. Acceptance itself reaches the server through the item's
 * `codequorum.accept` command, which VS Code runs; `accepted` only stops the dismissal.
 */
export class FeedbackTracker {
  private onScreen: string | undefined;

  constructor(private readonly send: (params: FeedbackParams) => void) {}

  shown(id: string): void {
    this.dismissShown();
    this.onScreen = id;
    this.send({ id, event: "shown" });
  }

  accepted(id: string): void {
    if (this.onScreen === id) {
      this.onScreen = undefined;
    }
  }

  dismissShown(): void {
    if (this.onScreen !== undefined) {
      this.send({ id: this.onScreen, event: "dismissed" });
      this.onScreen = undefined;
    }
  }
}
