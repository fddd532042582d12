import { Worker } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import { PacketRingReader, PacketRingView, PacketRingWriter } from '../../../../engine/memory/packet-ring.js';

function frame(i: number, key = false, size = 100) {
  const body = new Uint8Array(size).fill(i & 0xff);
  return {
    kind: 'video' as const,
    codec: 'h264' as const,
    dts: i * 33,
    pts: i * 33 + 66,
    key,
    config: false,
    body,
    payloadOffset: 5,
    payloadLength: size - 5,
    ingestTime: 1000 + i,
  };
}

describe('PacketRing', () => {
  it('write() returns views of the ring and frame() reads them back with every field', () => {
    const w = PacketRingWriter.create({ ringBytes: 4096, capacity: 16 });
    const f = w.write(frame(1, true));
    expect(f.body.buffer).toBe(w.buffers.data);
    const r = w.frame(0)!;
    expect(r).toMatchObject({
      kind: 'video',
      codec: 'h264',
      dts: 33,
      pts: 99,
      key: true,
      seq: 0,
      ingestTime: 1001,
    });
    expect(r.payload.length).toBe(95);
    expect(r.payload[0]).toBe(1);
    expect(w.lastKeySeq).toBe(0);
  });

  it('detects overwritten frames by data wrap and by index wrap', () => {
    const w = PacketRingWriter.create({ ringBytes: 1000, capacity: 8 });
    for (let i = 0; i < 5; i++) w.write(frame(i, i === 0, 200));
    expect(w.isIntact(0)).toBe(true);
    w.write(frame(5, false, 200)); // wraps onto frame 0
    expect(w.isIntact(0)).toBe(false);
    expect(w.frame(0)).toBeUndefined();
    expect(w.lastKeySeq).toBe(-1);
    const w2 = PacketRingWriter.create({ ringBytes: 100000, capacity: 4 });
    for (let i = 0; i < 6; i++) w2.write(frame(i));
    expect(w2.isIntact(1)).toBe(false);
    expect(w2.isIntact(2)).toBe(true);
  });

  it('never splits a body across the end of the ring', () => {
    const w = PacketRingWriter.create({ ringBytes: 1000, capacity: 64 });
    for (let i = 0; i < 20; i++) {
      const f = w.write(frame(i, false, 230));
      expect(f.body.length).toBe(230);
      expect(f.body.every((b) => b === (i & 0xff))).toBe(true);
    }
  });

  it('a lagging reader resumes at the latest keyframe and counts what it skipped', () => {
    const w = PacketRingWriter.create({ ringBytes: 2000, capacity: 64 });
    const r = new PacketRingReader(w, 0);
    for (let i = 0; i < 30; i++) w.write(frame(i, i % 10 === 0, 150));
    const first = r.next()!;
    expect(first.seq).toBe(20);
    expect(first.key).toBe(true);
    expect(r.skipped).toBe(20);
    expect(r.next()!.seq).toBe(21);
  });

  it('keeps the current config outside the ring for late joiners', () => {
    const w = PacketRingWriter.create({ ringBytes: 1000, capacity: 64 });
    w.write({ ...frame(0, true, 40), config: true });
    for (let i = 1; i < 40; i++) w.write(frame(i, i % 5 === 0, 100));
    expect(w.isIntact(0)).toBe(false);
    const cfg = w.config('video')!;
    expect(cfg.config).toBe(true);
    expect(cfg.body.length).toBe(40);
    const start = w.startFrames();
    expect(start.configs).toHaveLength(1);
    expect(start.fromSeq).toBe(35);
  });

  it('is readable from another worker thread as views of the same memory', async () => {
    const w = PacketRingWriter.create({ ringBytes: 4096, capacity: 16 });
    w.write(frame(7, true, 64));
    const code = `
      const { parentPort, workerData } = require('node:worker_threads');
      const idx = new Float64Array(workerData.index);
      const data = new Uint8Array(workerData.data);
      parentPort.postMessage({ pos: idx[1], len: idx[2], byte: data[idx[1] + 10] });
    `;
    const worker = new Worker(code, { eval: true, workerData: w.buffers });
    const msg = await new Promise<{ pos: number; len: number; byte: number }>((resolve) =>
      worker.once('message', resolve),
    );
    await worker.terminate();
    expect(msg).toEqual({ pos: 0, len: 64, byte: 7 });
    expect(new PacketRingView(w.buffers).frame(0)!.dts).toBe(231);
  });
});
