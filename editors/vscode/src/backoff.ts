/** Delays between reconnection attempts: 1 s, doubling up to 30 s, back to 1 s once connected. */
export class Backoff {
  private attempt = 0;

  constructor(
    private readonly firstMs = 1_000,
    private readonly maxMs = 30_000,
  ) {}

  /** The delay before the next attempt. */
  next(): number {
    const delay = Math.min(this.maxMs, this.firstMs * 2 ** this.attempt);
    this.attempt += 1;
    return delay;
  }

  reset(): void {
    this.attempt = 0;
  }

  get attempts(): number {
    return this.attempt;
  }
}
