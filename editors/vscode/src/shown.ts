import { Origin } from "./protocol";

/** One of the suggestions handed to VS Code: who proposed it, what it inserts, and where. */
export interface Shown extends Origin {
  text: string;
  uri: string;
  line: number;
  character: number;
}

/**
 * The suggestions of the last answer and which of them VS Code is showing: the best one, until
 * Alt+] / Alt+[ (the extension's own keybindings, which run VS Code's) move to an alternative.
 * VS Code cycles through them in order and wraps around.
 */
export class ShownSuggestions {
  private items: Shown[] = [];
  private index = 0;

  replace(items: Shown[]): void {
    this.items = items;
    this.index = 0;
  }

  clear(): void {
    this.replace([]);
  }

  /** Move `step` (1 or -1) through the alternatives; the one now shown. */
  cycle(step: number): Shown | undefined {
    if (this.items.length === 0) {
      return undefined;
    }
    this.index = (this.index + step + this.items.length) % this.items.length;
    return this.current;
  }

  get current(): Shown | undefined {
    return this.items[this.index];
  }

  get rank(): number {
    return this.index + 1;
  }

  get count(): number {
    return this.items.length;
  }
}

/**
 * How much of `shown` the document now holds after a partial accept: the text from where the
 * suggestion starts to the cursor, when it is the suggestion's beginning; 0 otherwise.
 */
export function acceptedLength(shown: Shown, textToCursor: string): number {
  return textToCursor.length > 0 && shown.text.startsWith(textToCursor) ? textToCursor.length : 0;
}
