// Per-connection message rate limit of the signalling server.

/** A token bucket: `capacity` messages, refilled evenly over `perSeconds`. */
export class TokenBucket {
  private tokens: number;
  private lastRefill = performance.now();
  private readonly tokensPerMs: number;

  constructor(private readonly capacity: number, perSeconds: number) {
    this.tokens = capacity;
    this.tokensPerMs = capacity / (perSeconds * 1000);
  }

  take(): boolean {
    const now = performance.now();
    this.tokens = Math.min(this.capacity, this.tokens + (now - this.lastRefill) * this.tokensPerMs);
    this.lastRefill = now;
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }
}
