// Holds one peer's remote ICE candidates until its remote description is set.
// Signalling between two in-process peers delivers a candidate as soon as the far
// side gathers it, which can be before the description that announces it has been
// applied here; node-datachannel then throws from its native callback (which once
// aborted a whole figure) and other stacks reject. Every bench peer that is not
// wired by PeerConnector (which queues on its own) takes its candidates through one.

/** A gate in front of one peer's addRemoteCandidate. */
export class CandidateGate<Candidate> {
  private held: Candidate[] | undefined = [];

  /** `add` applies one candidate to the peer; `onError` hears a candidate the peer refused. */
  constructor(
    private readonly add: (candidate: Candidate) => void | Promise<void>,
    private readonly onError: (error: unknown) => void = () => undefined,
  ) {}

  /** A candidate from the far side: applied now if the remote description is set, otherwise held. */
  candidate(candidate: Candidate): void {
    if (this.held !== undefined) this.held.push(candidate);
    else this.apply(candidate);
  }

  /** Call once the peer's remote description has been applied: releases what was held, in order. */
  open(): void {
    const held = this.held;
    if (held === undefined) return;
    this.held = undefined;
    for (const candidate of held) this.apply(candidate);
  }

  private apply(candidate: Candidate): void {
    try {
      const done = this.add(candidate);
      if (done instanceof Promise) done.catch(this.onError);
    } catch (error) {
      this.onError(error);
    }
  }
}
