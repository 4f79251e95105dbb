// The stacks the side-by-side figure compares, in the order its table shows them.
import { gstWebrtcNode } from './gst-webrtc-node.js';
import { nodeDatachannel } from './node-datachannel.js';
import type { Stack } from './stack.js';
import { werift } from './werift.js';
import { libwebrtc } from './wrtc.js';

export const STACKS: Stack[] = [gstWebrtcNode, libwebrtc, nodeDatachannel, werift];
