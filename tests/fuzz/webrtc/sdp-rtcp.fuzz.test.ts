/**
 * Property/fuzz tests: the SDP parser and the RTCP parser either return a value or throw their
 * named error (SdpError / RtcpError), never anything else, on arbitrary and on mutated inputs.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { RtcpError, SdpError } from '../../../transports/webrtc/errors.js';
import { encodeNack, encodePli, parseRtcp, writeSenderReport } from '../../../transports/webrtc/rtp/rtcp.js';
import { parseSdp, parseSdpFragment } from '../../../transports/webrtc/sdp.js';
import { CHROME_OFFER } from '../../unit/transports/webrtc/chrome-offer.js';

function onlyNamed<T>(fn: () => T, cls: new (...a: never[]) => Error): void {
  try {
    fn();
  } catch (err) {
    if (!(err instanceof cls)) throw err;
  }
}

const lines = CHROME_OFFER.split('\r\n');

describe('SDP parser fuzz', () => {
  it('throws only SdpError on arbitrary text', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 2000 }), (s) => {
        onlyNamed(() => parseSdp(s), SdpError);
        onlyNamed(() => parseSdp(`v=0\r\n${s}`), SdpError);
        onlyNamed(() => parseSdpFragment(s), SdpError);
      }),
      { numRuns: 2000 },
    );
  });

  it('throws only SdpError on a Chromium offer with lines dropped, duplicated or mangled', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.tuple(
            fc.nat(lines.length - 1),
            fc.constantFrom('drop', 'dup', 'cut', 'garble'),
            fc.string({ maxLength: 20 }),
          ),
          { maxLength: 8 },
        ),
        (edits) => {
          const l = lines.slice();
          for (const [i, op, s] of edits) {
            const at = i % l.length;
            if (op === 'drop') l.splice(at, 1);
            else if (op === 'dup') l.splice(at, 0, l[at]);
            else if (op === 'cut') l[at] = l[at].slice(0, s.length);
            else l[at] = `${l[at].slice(0, 4)}${s}`;
          }
          onlyNamed(() => parseSdp(l.join('\r\n')), SdpError);
        },
      ),
      { numRuns: 3000 },
    );
  });
});

describe('RTCP parser fuzz', () => {
  const valid = (() => {
    const sr = new Uint8Array(28);
    writeSenderReport(
      { ssrc: 1, ntpSec: 2, ntpFrac: 3, rtpTimestamp: 4, packetCount: 5, octetCount: 6 },
      sr,
      0,
    );
    return Buffer.concat([sr, encodeNack(1, 2, [1, 2, 3, 40]), encodePli(1, 2)]);
  })();

  it('throws only RtcpError on arbitrary bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 1500 }), (b) => {
        onlyNamed(() => parseRtcp(b), RtcpError);
        // With a valid first byte and type so the parser goes deeper.
        if (b.length >= 2) {
          const c = Uint8Array.from(b);
          c[0] = 0x80 | (c[0] & 0x3f);
          c[1] = 200 + (c[1] % 7);
          onlyNamed(() => parseRtcp(c), RtcpError);
        }
      }),
      { numRuns: 5000 },
    );
  });

  it('throws only RtcpError on a valid compound packet with bytes flipped or truncated', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.nat(valid.length - 1), fc.nat(255)), { maxLength: 6 }),
        fc.nat(valid.length),
        (flips, cut) => {
          const c = Uint8Array.from(valid);
          for (const [i, v] of flips) c[i] = v;
          onlyNamed(() => parseRtcp(c.subarray(0, cut)), RtcpError);
          const parsed = (() => {
            try {
              return parseRtcp(c);
            } catch {
              return undefined;
            }
          })();
          if (parsed) expect(Array.isArray(parsed)).toBe(true);
        },
      ),
      { numRuns: 5000 },
    );
  });
});
