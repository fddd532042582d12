/**
 * Child process of hls-load.ts: runs a share of the classic HLS and LL-HLS clients, one keep-alive
 * connection each (raw node:http), and reports histograms and per-client live-edge positions over IPC.
 *
 *   classic: GET {s}.m3u8 every target duration (half of it when nothing was new), GET each new
 *            segment once (starting at the newest).
 *   LL:      GET ll.m3u8 once, GET the init segment, then blocking reloads asking for the next part
 *            (_HLS_msn/_HLS_part) and GET every newly listed part, serially on one connection.
 */
import { Agent, request } from 'node:http';
import { Hist, parsePlaylist, sleep } from './common.js';

interface Start {
  type: 'start';
  host: string;
  port: number;
  stream: string;
  classic: number;
  ll: number;
  rampMs: number;
  durationMs: number;
  /** Samples before this wall time are not counted (ramp-up). */
  countFrom: number;
  timeoutMs: number;
}

const KINDS = ['playlist', 'll-playlist', 'blocked', 'segment', 'part', 'init'] as const;
type Kind = (typeof KINDS)[number];

const lat = new Map<Kind, Hist>(KINDS.map((k) => [k, new Hist()]));
/** Media-clock delay: response complete minus the item's media end (PDT + durations). */
const avail = new Map<'segment' | 'part' | 'blocked', Hist>([
  ['segment', new Hist()],
  ['part', new Hist()],
  ['blocked', new Hist()],
]);
const statuses: Record<string, number> = {};
let bytes = 0;
let countFrom = 0;

interface ClientState {
  kind: 'classic' | 'll';
  /** Newest item fetched: media end wall time, msn, part. */
  endWall: number;
  msn: number;
  part: number;
  errors: number;
}
const clients: ClientState[] = [];
let stopAt = 0;

function get(agent: Agent, host: string, port: number, path: string, timeoutMs: number) {
  return new Promise<{ status: number; body: Buffer; ms: number; path?: string }>((resolve) => {
    const t0 = performance.now();
    const req = request({ host, port, path, agent, method: 'GET' }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () =>
        resolve({
          status: res.statusCode ?? 0,
          body: Buffer.concat(chunks),
          ms: performance.now() - t0,
          path,
        }),
      );
      res.on('error', () => resolve({ status: -2, body: Buffer.alloc(0), ms: performance.now() - t0 }));
    });
    req.setTimeout(timeoutMs, () => req.destroy(new Error('timeout')));
    req.on('error', (e: NodeJS.ErrnoException) =>
      resolve({
        status: e.message === 'timeout' ? -1 : -2,
        body: Buffer.alloc(0),
        ms: performance.now() - t0,
      }),
    );
    req.end();
  });
}

function record(kind: Kind, r: { status: number; body: Buffer; ms: number }, st: ClientState): boolean {
  const counting = Date.now() >= countFrom;
  if (counting) {
    const key = `${kind} ${r.status === -1 ? 'timeout' : r.status === -2 ? 'neterr' : r.status}`;
    statuses[key] = (statuses[key] ?? 0) + 1;
  }
  if (r.status !== 200) {
    st.errors++;
    if (process.env.HLS_DEBUG) console.error(kind, r.status, (r as { path?: string }).path);
    return false;
  }
  if (counting) {
    lat.get(kind)!.add(r.ms);
    bytes += r.body.length;
  }
  return true;
}

const dir = (path: string) => path.slice(0, path.lastIndexOf('/') + 1);

async function classicClient(o: Start, st: ClientState): Promise<void> {
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  const path = `/live/${o.stream}.m3u8`;
  const base = dir(path);
  let last = -1;
  try {
    while (Date.now() < stopAt) {
      const t0 = Date.now();
      const r = await get(agent, o.host, o.port, path, o.timeoutMs);
      let fresh = false;
      let target = 2000;
      if (record('playlist', r, st)) {
        const pl = parsePlaylist(r.body.toString('latin1'));
        target = pl.targetMs;
        const segs = last < 0 ? pl.segments.slice(-1) : pl.segments.filter((s) => s.msn > last);
        for (const s of segs) {
          if (Date.now() >= stopAt) break;
          const g = await get(agent, o.host, o.port, base + s.uri, o.timeoutMs);
          if (record('segment', g, st)) {
            if (Date.now() >= countFrom) avail.get('segment')!.add(Date.now() - s.endWall);
            st.msn = s.msn;
            st.endWall = s.endWall;
            fresh = true;
          }
          last = Math.max(last, s.msn);
        }
      }
      const wait = (fresh ? target : target / 2) - (Date.now() - t0);
      if (wait > 0) await sleep(Math.min(wait, Math.max(0, stopAt - Date.now())));
    }
  } finally {
    agent.destroy();
  }
}

async function llClient(o: Start, st: ClientState): Promise<void> {
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  const path = `/live/${o.stream}/ll.m3u8`;
  const base = dir(path);
  let lastMsn = -1;
  let lastPart = -1;
  let haveInit = false;
  let blocking = false;
  let askMsn = 0;
  let askPart = 0;
  const newer = (m: number, p: number) => m > lastMsn || (m === lastMsn && p > lastPart);
  try {
    while (Date.now() < stopAt) {
      const q = blocking ? `?_HLS_msn=${askMsn}&_HLS_part=${askPart}` : '';
      const r = await get(agent, o.host, o.port, path + q, o.timeoutMs);
      if (!record(blocking ? 'blocked' : 'll-playlist', r, st)) {
        blocking = false;
        await sleep(250);
        continue;
      }
      const pl = parsePlaylist(r.body.toString('latin1'));
      if (pl.ended) break;
      if (!haveInit && pl.map) {
        const g = await get(agent, o.host, o.port, base + pl.map, o.timeoutMs);
        haveInit = record('init', g, st);
      }
      let todo = pl.parts.filter((p) => newer(p.msn, p.part));
      if (!blocking) todo = todo.slice(-1); // start at the live edge
      if (blocking && Date.now() >= countFrom && todo.length > 0) {
        // How long after the asked-for part existed (by the media clock) the blocked reload returned.
        avail.get('blocked')!.add(Date.now() - todo[0].endWall);
      }
      for (const p of todo) {
        if (Date.now() >= stopAt) break;
        const g = await get(agent, o.host, o.port, base + p.uri, o.timeoutMs);
        if (record('part', g, st)) {
          if (Date.now() >= countFrom) avail.get('part')!.add(Date.now() - p.endWall);
          st.msn = p.msn;
          st.part = p.part;
          st.endWall = p.endWall;
        }
        lastMsn = p.msn;
        lastPart = p.part;
      }
      // The next part: of the same segment, or part 0 of the next one once this segment is complete.
      const complete = pl.segments.some((x) => x.msn === lastMsn);
      const prevAsk = `${askMsn}.${askPart}`;
      askMsn = complete ? lastMsn + 1 : lastMsn;
      askPart = complete ? 0 : lastPart + 1;
      if (todo.length === 0 && !blocking) {
        await sleep(100);
        continue;
      }
      if (blocking && todo.length === 0) {
        // A blocking reload that returned nothing new: the segment ended (expected once per
        // segment, as with hls.js), or the server answered early (then back off a little).
        const ended = prevAsk !== `${askMsn}.${askPart}`;
        const key = ended ? 'blocked: segment complete, no new part' : 'blocked: returned early';
        if (Date.now() >= countFrom) statuses[key] = (statuses[key] ?? 0) + 1;
        if (!ended) await sleep(20);
      }
      blocking = true;
    }
  } finally {
    agent.destroy();
  }
}

async function run(o: Start): Promise<void> {
  countFrom = o.countFrom;
  stopAt = Date.now() + o.rampMs + o.durationMs;
  const total = o.classic + o.ll;
  const running: Promise<void>[] = [];
  for (let i = 0; i < total; i++) {
    const kind = i < o.classic ? 'classic' : 'll';
    const st: ClientState = { kind, endWall: 0, msn: -1, part: -1, errors: 0 };
    clients.push(st);
  }
  // Interleave the two kinds over the ramp.
  const order = clients.map((_, i) => i).sort((a, b) => ((a * 7919) % total) - ((b * 7919) % total));
  const t0 = Date.now();
  for (let k = 0; k < order.length; k++) {
    const at = t0 + (o.rampMs * k) / order.length;
    const w = at - Date.now();
    if (w > 1) await sleep(w);
    const st = clients[order[k]];
    running.push((st.kind === 'classic' ? classicClient(o, st) : llClient(o, st)).catch(() => {}));
  }
  await Promise.all(running);
  process.send!({
    type: 'result',
    lat: Object.fromEntries([...lat].map(([k, h]) => [k, h.toJSON()])),
    avail: Object.fromEntries([...avail].map(([k, h]) => [k, h.toJSON()])),
    statuses,
    bytes,
    clients,
  });
}

let me = 0;
process.on('message', (m: (Start & { index: number }) | { type: 'snap'; id: number }) => {
  if (m.type === 'start') {
    me = m.index;
    void run(m);
  } else if (m.type === 'snap') {
    process.send!({
      type: 'snap',
      id: m.id,
      index: me,
      at: Date.now(),
      clients: clients.map((c) => [c.kind === 'classic' ? 0 : 1, c.endWall, c.msn, c.part]),
    });
  }
});
process.on('disconnect', () => process.exit(0));
