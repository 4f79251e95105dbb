// The error-code table exists twice, in C++ (native/error_codes.h) and in
// TypeScript (lib/core/error-codes.ts): both must say the same.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

import { describe, expect, it } from 'vitest';

import { ERROR_DOMAIN, ErrorCode, hasErrorCode } from '../lib/core/error-codes.js';
import { GstError, Pipeline } from '../lib/index.js';

const header = readFileSync(join(__dirname, '../native/error_codes.h'), 'utf8');

describe('error codes', () => {
  it('native/error_codes.h and lib/core/error-codes.ts list the same codes', () => {
    const native = Object.fromEntries([...header.matchAll(/^\s*X\((\w+),\s*(\d+)\)/gm)].map(([, name, value]) => [name, Number(value)]));
    expect(Object.keys(native).length).toBeGreaterThan(0);
    expect(native).toEqual(ErrorCode);
    expect(/#define GST_WEBRTC_NODE_ERROR_DOMAIN "([^"]+)"/.exec(header)?.[1]).toBe(ERROR_DOMAIN);
  });

  it('errors the binding raises carry a code from the table', () => {
    const pipeline = new Pipeline('fakesrc name=a  fakesrc name=b');
    let failure: unknown;
    try {
      pipeline.link(pipeline.getElement('a')!, pipeline.getElement('b')!); // two sources: nothing to link
    } catch (error) {
      failure = error;
    } finally {
      pipeline.close();
    }
    expect(failure).toBeInstanceOf(GstError);
    expect(hasErrorCode(failure, ErrorCode.LinkFailed)).toBe(true);
    expect(hasErrorCode(failure, ErrorCode.Closed)).toBe(false);
  });
});
