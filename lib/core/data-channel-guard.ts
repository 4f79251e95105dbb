// Guards createDataChannel() against a GStreamer 1.22 precondition: webrtcbin
// checks a negotiated channel's id against its SCTP transport's max-channels
// with g_return_val_if_fail, which prints a CRITICAL (and makes no channel),
// and max-channels is 0 until the association is up.
import { OperationError } from './errors.js';
import type { NativeObject } from './native.js';

/** Throws OperationError when webrtcbin would refuse `id` with a CRITICAL. */
export function checkDataChannelId(webrtcbin: NativeObject, id: unknown): void {
  if (typeof id !== 'number') return;
  const transport = webrtcbin.get('sctp-transport') as NativeObject | null;
  if (transport === null) return;
  const maxChannels = transport.get('max-channels') as number;
  if (id > maxChannels) {
    throw new OperationError(
      maxChannels === 0
        ? `data channel id ${id}: the SCTP association is not up yet, and GStreamer 1.22 takes a negotiated id only once it is (or before the first negotiation)`
        : `data channel id ${id} is above the association's ${maxChannels} channels`,
    );
  }
}
