/**
 * Test-only Ogg Opus file writer (RFC 3533 pages, RFC 7845 mapping), one packet per page, so
 * ffmpeg can decode the transcoder's Opus output and tell us whether it is real Opus.
 *
 * ```
 * 'OggS' | version=0 | header_type | granule:64le | serial:32le | seq:32le | crc:32le | nsegs | lacing[nsegs] | data
 * ```
 */
const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let i = 0; i < 256; i++) {
    let r = i << 24;
    for (let k = 0; k < 8; k++) r = r & 0x80000000 ? (r << 1) ^ 0x04c11db7 : r << 1;
    t[i] = r >>> 0;
  }
  return t;
})();

function oggCrc(buf: Uint8Array): number {
  let crc = 0;
  for (const b of buf) crc = ((crc << 8) ^ CRC_TABLE[((crc >>> 24) ^ b) & 0xff]) >>> 0;
  return crc;
}

function page(packet: Uint8Array, granule: bigint, seq: number, flags: number): Uint8Array {
  const lacing: number[] = [];
  let n = packet.length;
  while (n >= 255) {
    lacing.push(255);
    n -= 255;
  }
  lacing.push(n);
  const out = new Uint8Array(27 + lacing.length + packet.length);
  const dv = new DataView(out.buffer);
  out.set([0x4f, 0x67, 0x67, 0x53, 0, flags], 0);
  dv.setBigInt64(6, granule, true);
  dv.setUint32(14, 0x52545321, true);
  dv.setUint32(18, seq, true);
  out[26] = lacing.length;
  out.set(lacing, 27);
  out.set(packet, 27 + lacing.length);
  dv.setUint32(22, oggCrc(out), true);
  return out;
}

/** An Ogg Opus file from an OpusHead and packets with their durations in 48 kHz samples. */
export function oggOpusFile(head: Uint8Array, packets: { data: Uint8Array; samples: number }[]): Uint8Array {
  const tags = new Uint8Array([...Buffer.from('OpusTags'), 3, 0, 0, 0, 0x72, 0x74, 0x73, 0, 0, 0, 0]);
  const pages = [page(head, 0n, 0, 2), page(tags, 0n, 1, 0)];
  let granule = 0n;
  packets.forEach((p, i) => {
    granule += BigInt(p.samples);
    pages.push(page(p.data, granule, i + 2, i === packets.length - 1 ? 4 : 0));
  });
  return Buffer.concat(pages);
}
