import { existsSync, renameSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ConfigInput } from '../../../engine/config/config.js';
import { createNode, type NodeHooks, type RtsNode } from '../../../engine/node.js';
import type { MediaFrame } from '../../../media/frame/media-frame.js';
import { RtmpClient } from '../../../transports/rtmp/client.js';
import { makeTestFile } from '../../support/ffmpeg.js';
import { readFlvFrames, replayFrames } from '../../support/flv-frames.js';

/** A node on loopback with free ports. */
export function startNode(config: ConfigInput = {}, hooks?: NodeHooks): Promise<RtsNode> {
  return createNode({
    config: {
      host: '127.0.0.1',
      workers: 1,
      ...config,
      rtmp: { port: 0, ...config.rtmp },
      http: { port: 0, ...config.http },
    },
    hooks,
  });
}

const fileCache = new Map<string, Promise<MediaFrame[]>>();

/** Frames of a short H.264 + AAC FLV test file made once by ffmpeg (GOP 1 s at 25 fps). */
export function testFrames(
  opts: { seconds?: number; bframes?: number; gop?: number } = {},
): Promise<MediaFrame[]> {
  const seconds = opts.seconds ?? 6;
  const name = `rts-test-${seconds}s-b${opts.bframes ?? 0}-g${opts.gop ?? 25}.flv`;
  let p = fileCache.get(name);
  if (!p) {
    const file = join(tmpdir(), name);
    // test files run in parallel processes: write under a private name, then rename atomically
    const part = `${file}.${process.pid}.part.flv`;
    p = existsSync(file)
      ? Promise.resolve(readFlvFrames(file))
      : makeTestFile({
          url: part,
          seconds,
          width: 320,
          height: 240,
          fps: 25,
          bframes: opts.bframes ?? 0,
          gop: opts.gop ?? 25,
        }).then(() => {
          renameSync(part, file);
          return readFlvFrames(file);
        });
    fileCache.set(name, p);
  }
  return p;
}

export interface FilePublisher {
  client: RtmpClient;
  stop(): Promise<void>;
  done: Promise<void>;
}

/** Publishes test frames over RTMP with our client, in real time, looping. */
export async function publishFrames(
  url: string,
  frames: MediaFrame[],
  loops = 100,
  speed = 1,
): Promise<FilePublisher> {
  const client = await RtmpClient.connect(url, { timeoutMs: 5000 });
  await client.publish();
  const replay = replayFrames(
    frames,
    (f) => {
      if (!client.closed) client.writeMedia(f.kind === 'video' ? 9 : 8, f.dts, f.body);
    },
    { loops, speed },
  );
  return {
    client,
    done: replay.done,
    stop: async () => {
      replay.stop();
      client.close();
    },
  };
}

/** Reads an HTTP-FLV response and returns its tags as they arrive (a minimal streaming parser). */
export async function readFlvTags(
  url: string,
  onTag: (tag: { type: number; timestamp: number; body: Uint8Array; at: number }) => boolean | undefined,
  timeoutMs = 10_000,
): Promise<{ status: number; text?: string }> {
  const ac = new AbortController();
  const timer = setTimeout(() => ac.abort(), timeoutMs);
  try {
    const res = await fetch(url, { signal: ac.signal });
    if (res.status !== 200 || !res.body) return { status: res.status, text: await res.text() };
    let buf = new Uint8Array(0);
    let headerDone = false;
    const reader = res.body.getReader();
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      const next = new Uint8Array(buf.length + value.length);
      next.set(buf);
      next.set(value, buf.length);
      buf = next;
      let off = 0;
      if (!headerDone) {
        if (buf.length < 13) continue;
        off = 13;
        headerDone = true;
      }
      while (buf.length - off >= 11) {
        const size = (buf[off + 1] << 16) | (buf[off + 2] << 8) | buf[off + 3];
        if (buf.length - off < 15 + size) break;
        const ts = ((buf[off + 7] << 24) | (buf[off + 4] << 16) | (buf[off + 5] << 8) | buf[off + 6]) >>> 0;
        const stop = onTag({
          type: buf[off],
          timestamp: ts,
          body: buf.subarray(off + 11, off + 11 + size),
          at: performance.now(),
        });
        off += 15 + size;
        if (stop) {
          ac.abort();
          return { status: 200 };
        }
      }
      buf = buf.subarray(off);
    }
    return { status: 200 };
  } catch (err) {
    if ((err as Error).name === 'AbortError') return { status: 200 };
    throw err;
  } finally {
    clearTimeout(timer);
  }
}
