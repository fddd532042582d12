import { ProtocolError } from '../../engine/errors.js';

/** ISO/IEC 14496-3 Table 1.18, samplingFrequencyIndex → Hz. */
export const AAC_SAMPLE_RATES = [
  96000, 88200, 64000, 48000, 44100, 32000, 24000, 22050, 16000, 12000, 11025, 8000, 7350,
] as const;

/**
 * AudioSpecificConfig (ISO/IEC 14496-3 1.6.2.1), the fields HLS/fMP4 need.
 *
 * ```
 * audioObjectType:5 [=31 → 32 + aotExt:6] | samplingFrequencyIndex:4 [=15 → freq:24] | channelConfiguration:4 | ...
 * ```
 * For explicit SBR/PS (AOT 5 / 29) the extension sampling frequency and the core object type follow.
 */
export interface AacConfig {
  /** The signalled audioObjectType (2 = LC, 5 = SBR, 29 = PS). */
  objectType: number;
  /** The core object type (after SBR/PS signalling): the one ADTS must carry. */
  coreObjectType: number;
  samplingFrequencyIndex: number;
  sampleRate: number;
  /** Output sample rate (doubled by SBR). */
  outputSampleRate: number;
  channelConfiguration: number;
}

class BitCursor {
  private bitPos = 0;
  constructor(
    private readonly buf: Uint8Array,
    offset: number,
  ) {
    this.bitPos = offset * 8;
  }
  bits(n: number): number {
    let v = 0;
    for (let i = 0; i < n; i++) {
      const byte = this.bitPos >> 3;
      if (byte >= this.buf.length)
        throw new ProtocolError('RTS_ERR_AAC_CONFIG_TRUNCATED', 'AudioSpecificConfig truncated');
      v = v * 2 + ((this.buf[byte] >> (7 - (this.bitPos & 7))) & 1);
      this.bitPos++;
    }
    return v;
  }
}

function readObjectType(c: BitCursor): number {
  const t = c.bits(5);
  return t === 31 ? 32 + c.bits(6) : t;
}

function readFrequency(c: BitCursor): { index: number; rate: number } {
  const index = c.bits(4);
  if (index === 15) return { index, rate: c.bits(24) };
  const rate = AAC_SAMPLE_RATES[index];
  if (rate === undefined)
    throw new ProtocolError('RTS_ERR_AAC_CONFIG_INVALID', `bad samplingFrequencyIndex ${index}`);
  return { index, rate };
}

export function parseAacConfig(buf: Uint8Array, offset = 0): AacConfig {
  const c = new BitCursor(buf, offset);
  const objectType = readObjectType(c);
  const f = readFrequency(c);
  const channelConfiguration = c.bits(4);
  let coreObjectType = objectType;
  let outputSampleRate = f.rate;
  if (objectType === 5 || objectType === 29) {
    outputSampleRate = readFrequency(c).rate;
    coreObjectType = readObjectType(c);
  }
  return {
    objectType,
    coreObjectType,
    samplingFrequencyIndex: f.index,
    sampleRate: f.rate,
    outputSampleRate,
    channelConfiguration,
  };
}

export function aacProfileName(objectType: number): string {
  switch (objectType) {
    case 1: {
      return 'Main';
    }
    case 2: {
      return 'LC';
    }
    case 3: {
      return 'SSR';
    }
    case 4: {
      return 'LTP';
    }
    case 5: {
      return 'HE-AAC';
    }
    case 29: {
      return 'HE-AACv2';
    }
    case 23: {
      return 'LD';
    }
    case 39: {
      return 'ELD';
    }
    default: {
      return `AOT ${objectType}`;
    }
  }
}
