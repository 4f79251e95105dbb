// The link scenarios of the network figures (issues 13 and 15): what the link
// does, and when it changes, relative to the first decoded frame.
import type { LinkConditions } from '../../test/support/shaped-link.js';

/** A change of the link's rate cap at a time into the measurement. */
export interface RateChange {
  atMs: number;
  rate: number;
}

export interface Scenario {
  /** Row label. */
  name: string;
  /** The link from the start (before connecting). */
  link: LinkConditions;
  /** Cap changes during the measurement. */
  changes: RateChange[];
  /** How long frames are measured, from the first decoded frame. */
  durationMs: number;
}

/** The four scenarios; quick runs only the first, shortened. */
export function scenarios(quick: boolean): Scenario[] {
  const steady: Scenario = { name: 'steady 1 Mbit/s', link: { rate: 1e6 }, changes: [], durationMs: quick ? 4000 : 8000 };
  if (quick) return [steady];
  return [
    steady,
    {
      name: '4 → 0.5 → 4 Mbit/s',
      link: { rate: 4e6 },
      changes: [
        { atMs: 3000, rate: 0.5e6 },
        { atMs: 9000, rate: 4e6 },
      ],
      durationMs: 14_000,
    },
    { name: '2% loss', link: { loss: 0.02 }, changes: [], durationMs: 8000 },
    { name: '40 ms RTT', link: { rttMs: 40 }, changes: [], durationMs: 8000 },
  ];
}
