// Shared by bench/connect-first.ts (the child process) and bench/connect-time.ts (figure 2, which starts it).

/** Connections after the first, in the same process: its warm reference. */
export const FOLLOWING = 5;

/** What one fresh process measured, in milliseconds. */
export interface FirstConnectionResult {
  /** How long `await warmUp()` took, or null when the process did not call it. */
  warmUpMs: number | null;
  /** From creating the peers (or the sender's pipeline) to both connected. */
  firstMs: number;
  followingMs: number[];
}
