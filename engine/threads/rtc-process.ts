import { PacketRingWriter } from '../memory/packet-ring.js';
import { decodeRtcFrame, type FromRtcProcess, rtcFramesBytes, type ToRtcProcess } from './rtc-frames.js';
import { runStreamWorker, type StreamWorkerData, type WorkerPort } from './stream-worker.js';
import { decodeWire, encodeWire, type FromWorker, type ToWorker, type Wire } from './worker-messages.js';

/**
 * An RTC egress process (one of `rtc.processes`): a child of the node, owning UDP port
 * `rtc.port + index`. It runs the RTC stream worker (role 'rtc', node-datachannel) on its main
 * thread, with IPC as its port, and for every stream attached to it a local PacketRing written
 * from the frames the node forwards over IPC (one copy per stream per process, never per viewer).
 */

export interface RtcProcessData extends Omit<StreamWorkerData, 'role'> {
  ringBytes: number;
}

async function main(): Promise<void> {
  const send = process.send?.bind(process);
  if (!send) throw new Error('rtc-process must run as a child process with an IPC channel');
  const data = JSON.parse(process.argv[2] ?? '{}') as RtcProcessData;
  const rings = new Map<string, PacketRingWriter>();
  const ringOf = new Map<string, string>(); // key -> key#gen of its current ring
  let exiting = false;
  const waiters: ((msg: FromWorker) => boolean)[] = [];
  let toWorker: (w: Wire) => void = () => {};
  const tell = (m: FromRtcProcess) => {
    if (process.connected) send(m);
  };
  // frame bytes handled since the last acknowledgement: one ack per event-loop turn, not per message
  let unacked = 0;
  const ack = () => {
    tell({ a: unacked });
    unacked = 0;
  };
  const handled = (bytes: number) => {
    if (unacked === 0 && bytes > 0) setImmediate(ack);
    unacked += bytes;
  };

  // the stream worker's port: its messages go to the node over IPC ('reset' is for this file)
  const port: WorkerPort = {
    postMessage: (w: Wire) => {
      const msg = decodeWire<FromWorker>(w);
      for (let i = 0; i < waiters.length; i++) {
        if (waiters[i](msg)) {
          waiters.splice(i, 1);
          break;
        }
      }
      if (msg.t === 'reset') return;
      tell({ w });
    },
    on: (_event, listener) => {
      toWorker = listener;
    },
    close: () => {},
  };

  const untilReset = (ms: number) =>
    new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, ms);
      waiters.push((m) => {
        if (m.t !== 'reset') return false;
        clearTimeout(timer);
        resolve();
        return true;
      });
    });

  /** Ends the sessions, stops node-datachannel's native threads (exiting while they run aborts), exits 0. */
  const exit = async (): Promise<void> => {
    if (exiting) return;
    exiting = true;
    let reset = untilReset(5000);
    toWorker(encodeWire<ToWorker>({ t: 'shutdown' }));
    await reset;
    reset = untilReset(5000);
    toWorker(encodeWire<ToWorker>({ t: 'cleanup' }));
    await reset;
    if (process.connected) send({ w: encodeWire<FromWorker>({ t: 'reset' }) });
    process.exit(0);
  };

  process.on('message', (m: ToRtcProcess) => {
    if (exiting) return;
    if ('f' in m && !('w' in m)) {
      handled(rtcFramesBytes(m.f));
      const ring = rings.get(m.s);
      if (!ring) return;
      for (const f of m.f) ring.write(decodeRtcFrame(f));
      return;
    }
    const msg = decodeWire<ToWorker>(m.w);
    switch (msg.t) {
      case 'attach': {
        const id = `${msg.key}#${msg.gen}`;
        const old = ringOf.get(msg.key);
        if (old && old !== id) {
          rings.get(old)?.end();
          rings.delete(old);
        }
        const ring = PacketRingWriter.create({ ringBytes: data.ringBytes });
        if ('f' in m) {
          handled(rtcFramesBytes(m.f));
          for (const f of m.f) ring.write(decodeRtcFrame(f));
        }
        rings.set(id, ring);
        ringOf.set(msg.key, id);
        toWorker({ ...m.w, ring: ring.buffers });
        return;
      }
      case 'detach': {
        const id = `${msg.key}#${msg.gen}`;
        toWorker(m.w);
        rings.get(id)?.end();
        rings.delete(id);
        if (ringOf.get(msg.key) === id) ringOf.delete(msg.key);
        return;
      }
      case 'shutdown':
      case 'cleanup': {
        void exit();
        return;
      }
      default: {
        toWorker(m.w);
      }
    }
  });
  // the node is gone (crashed or killed): do not outlive it
  process.on('disconnect', () => void exit());
  // Ctrl-C reaches the whole process group: the node decides when this process stops
  process.on('SIGINT', () => {});
  process.on('SIGTERM', () => void exit());
  await runStreamWorker(port, {
    index: data.index,
    role: 'rtc',
    logLevel: data.logLevel,
    config: data.config,
  });
}

await main();
