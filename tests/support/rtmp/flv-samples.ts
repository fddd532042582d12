/** Synthetic FLV tag bodies (enough for relays that look at the first bytes). */
export function avcSequenceHeader(): Uint8Array {
  // keyframe|AVC, AVCPacketType 0, cts 0, a minimal AVCDecoderConfigurationRecord.
  return Uint8Array.from([
    0x17, 0, 0, 0, 0, 1, 0x42, 0xc0, 0x1e, 0xff, 0xe1, 0, 4, 0x67, 0x42, 0xc0, 0x1e, 1, 0, 4, 0x68, 0xce,
    0x3c, 0x80,
  ]);
}

export function avcFrame(key: boolean, size: number, fill: number): Uint8Array {
  const out = new Uint8Array(size);
  out[0] = key ? 0x17 : 0x27;
  out[1] = 1;
  out.fill(fill & 0xff, 5);
  return out;
}

export function aacSequenceHeader(): Uint8Array {
  return Uint8Array.from([0xaf, 0, 0x12, 0x10]);
}

export function aacFrame(size: number, fill: number): Uint8Array {
  const out = new Uint8Array(size);
  out[0] = 0xaf;
  out[1] = 1;
  out.fill(fill & 0xff, 2);
  return out;
}
