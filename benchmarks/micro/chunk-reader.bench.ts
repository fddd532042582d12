/**
 * RTMP chunk parsing: ChunkReader over one second of a generated publisher stream (2 Mbps 720p30
 * H.264 + 128 kbps AAC: 30 video messages with one 60 kB keyframe, 43 audio messages), chunked
 * at 128 bytes (the default, what many encoders keep) and at 4096 (ffmpeg, OBS), fed in 64 kB
 * socket reads and in 1460-byte reads (one TCP segment each).
 *
 *   node --import tsx benchmarks/micro/chunk-reader.bench.ts [--json]
 */
import { ChunkReader } from '../../transports/rtmp/chunk/chunk-reader.js';
import { encodeChunksFlat } from '../../transports/rtmp/chunk/chunk-writer.js';
import { CSID_AUDIO, CSID_VIDEO } from '../../transports/rtmp/constants.js';
import { setChunkSizeMessage } from '../../transports/rtmp/message/control-message.js';
import { DEFAULT_RTMP_LIMITS } from '../../transports/rtmp/types.js';
import { AVG_AUDIO_BYTES, AVG_VIDEO_BYTES, aacBody, avcBody, type MicroCase, runSuite } from './harness.js';

const KEYFRAME_BYTES = 60_000;

/** One second of stream as chunk bytes, preceded by Set Chunk Size when chunkSize != 128. */
function oneSecond(chunkSize: number): { bytes: Buffer; messages: number } {
  const parts: Buffer[] = [];
  if (chunkSize !== 128) parts.push(encodeChunksFlat({ ...setChunkSizeMessage(chunkSize), csid: 2 }, 128));
  let messages = 0;
  const video = (i: number): Uint8Array =>
    i === 0
      ? avcBody(KEYFRAME_BYTES, true)
      : avcBody(Math.round((AVG_VIDEO_BYTES * 30 - KEYFRAME_BYTES) / 29), false);
  let a = 0;
  for (let v = 0; v < 30; v++) {
    const vts = Math.round((v * 1000) / 30);
    while (a < 43 && Math.round((a * 1024 * 1000) / 44_100) <= vts) {
      const ats = Math.round((a * 1024 * 1000) / 44_100);
      parts.push(
        encodeChunksFlat(
          { csid: CSID_AUDIO, typeId: 8, streamId: 1, timestamp: ats, payload: aacBody(AVG_AUDIO_BYTES) },
          chunkSize,
        ),
      );
      a++;
      messages++;
    }
    parts.push(
      encodeChunksFlat(
        { csid: CSID_VIDEO, typeId: 9, streamId: 1, timestamp: vts, payload: video(v) },
        chunkSize,
      ),
    );
    messages++;
  }
  return { bytes: Buffer.concat(parts), messages };
}

function reads(bytes: Buffer, size: number): Buffer[] {
  const out: Buffer[] = [];
  for (let p = 0; p < bytes.length; p += size) out.push(bytes.subarray(p, Math.min(p + size, bytes.length)));
  return out;
}

let sink = 0;
const cases: MicroCase[] = [];
for (const chunkSize of [128, 4096]) {
  const { bytes, messages } = oneSecond(chunkSize);
  for (const readSize of [65_536, 1460]) {
    const pieces = reads(bytes, readSize);
    cases.push({
      name: `1 s of stream, chunk ${chunkSize}, reads of ${readSize} B`,
      fn: () => {
        const r = new ChunkReader((m) => {
          sink += m.payload.length;
        }, DEFAULT_RTMP_LIMITS);
        for (const p of pieces) r.push(p);
      },
      unitsPerOp: messages,
      unit: 'messages',
      bytesPerOp: bytes.length,
    });
  }
}

await runSuite('rtmp chunk-reader', cases);
if (sink < 0) console.log(sink);
