#!/usr/bin/env node
// Runs before the tests (npm `pretest`): makes sure Chromium and ffmpeg are there and NATS is
// reachable, installing/starting what it can. Prints one line per missing thing it cannot fix.
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { accessSync, chmodSync, constants, existsSync, mkdtempSync, openSync } from 'node:fs';
import { createRequire } from 'node:module';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join } from 'node:path';

const require = createRequire(import.meta.url);
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
let failed = false;

function onPath(name) {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (!dir) continue;
    const p = join(dir, name);
    try {
      accessSync(p, constants.X_OK);
      return p;
    } catch {}
  }
  return undefined;
}

function ensureChromium() {
  if (existsSync(CHROMIUM)) return;
  const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
  const apt = onPath('apt-get');
  if (isRoot && apt) {
    console.log(`ensure-test-deps: ${CHROMIUM} missing, installing chromium with apt-get`);
    const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
    const opts = { stdio: 'inherit', env, timeout: 15 * 60_000 };
    const up = spawnSync(apt, ['update'], opts);
    const inst =
      up.status === 0
        ? spawnSync(apt, ['install', '-y', '--no-install-recommends', 'chromium'], opts)
        : { status: 1 };
    if (inst.status === 0 && existsSync(CHROMIUM)) return;
  }
  console.error(`ensure-test-deps: Chromium missing at ${CHROMIUM}: install it: apt-get install chromium`);
  failed = true;
}

function binary(name) {
  const fromPath = onPath(name);
  if (fromPath) return fromPath;
  try {
    const dir = dirname(
      require.resolve(`@${name}-installer/${process.platform}-${process.arch}/package.json`),
    );
    const p = join(dir, name);
    if (existsSync(p)) {
      try {
        accessSync(p, constants.X_OK);
      } catch {
        chmodSync(p, 0o755);
      }
      return p;
    }
  } catch {}
  return undefined;
}

function ensureFfmpeg() {
  for (const name of ['ffmpeg', 'ffprobe']) {
    const p = binary(name);
    if (!p) {
      console.error(
        `ensure-test-deps: ${name} missing: run npm ci (installs @${name}-installer/${name}) or apt-get install ffmpeg`,
      );
      failed = true;
      continue;
    }
    try {
      execFileSync(p, ['-version'], { stdio: 'ignore', timeout: 10_000 });
    } catch (err) {
      console.error(`ensure-test-deps: ${p} is not runnable: ${err.message}`);
      failed = true;
    }
  }
}

function reachable(host, port, timeoutMs = 1000) {
  return new Promise((resolve) => {
    const s = connect({ host, port });
    const done = (ok) => {
      s.destroy();
      resolve(ok);
    };
    s.setTimeout(timeoutMs, () => done(false));
    s.once('connect', () => done(true));
    s.once('error', () => done(false));
  });
}

async function ensureNats() {
  const url = new URL((process.env.NATS_URL ?? 'nats://127.0.0.1:4222').split(',')[0]);
  const host = url.hostname || '127.0.0.1';
  const port = Number(url.port || 4222);
  if (await reachable(host, port)) return;
  const bin = ['/usr/sbin/nats-server', onPath('nats-server')].find((p) => p && existsSync(p));
  const local = host === '127.0.0.1' || host === 'localhost';
  if (bin && local) {
    const dir = mkdtempSync(join(tmpdir(), 'rts-nats-'));
    const log = openSync(join(dir, 'nats.log'), 'a');
    const child = spawn(bin, ['-a', '127.0.0.1', '-p', String(port), '-js', '-sd', dir], {
      detached: true,
      stdio: ['ignore', log, log],
    });
    child.unref();
    for (let i = 0; i < 50; i++) {
      if (await reachable(host, port, 200)) {
        console.log(
          `ensure-test-deps: started nats-server (pid ${child.pid}) on ${host}:${port}, store ${dir}`,
        );
        return;
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  // Not fatal: cluster tests check for NATS themselves and say how to start one.
  console.warn(
    `ensure-test-deps: NATS not reachable at ${url.href}: apt-get install nats-server, then nats-server -a 127.0.0.1 -p ${port} -js (cluster tests will be skipped or fail)`,
  );
}

ensureChromium();
ensureFfmpeg();
await ensureNats();
process.exit(failed ? 1 : 0);
