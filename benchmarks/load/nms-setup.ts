import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

export interface NmsSetup {
  /** Temporary directory holding the config copy, keys and data (remove it after the run). */
  dir: string;
  /** Arguments for `node`: Node-Media-Server's app.js with ports and paths. */
  args: string[];
  rtmpPort: number;
  httpPort: number;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const a = srv.address();
      srv.close(() => resolve(typeof a === 'object' && a ? a.port : 0));
    });
  });
}

/**
 * Node-Media-Server 4.4 from node_modules, set up to run on loopback with free ports and a copy of
 * its config in a temporary directory (it rewrites its config file on start: never run it in place).
 * Used by the load tool and by the player tests, which run it as a peer.
 */
export async function nodeMediaServerSetup(prefix = 'rts-nms-'): Promise<NmsSetup> {
  const require = createRequire(import.meta.url);
  const pkgDir = dirname(require.resolve('node-media-server/package.json'));
  const dir = mkdtempSync(join(tmpdir(), prefix));
  const config = JSON.parse(readFileSync(join(pkgDir, 'bin', 'config.json'), 'utf8')) as Record<
    string,
    unknown
  >;
  config.webadmin = { enable: false };
  writeFileSync(join(dir, 'config.json'), JSON.stringify(config, null, 2));
  copyFileSync(join(pkgDir, 'bin', 'key.pem'), join(dir, 'key.pem'));
  copyFileSync(join(pkgDir, 'bin', 'cert.pem'), join(dir, 'cert.pem'));
  mkdirSync(join(dir, 'data'));
  const [rtmpPort, httpPort, rtmpsPort, httpsPort] = [
    await freePort(),
    await freePort(),
    await freePort(),
    await freePort(),
  ];
  const args = [
    join(pkgDir, 'bin', 'app.js'),
    '-c',
    join(dir, 'config.json'),
    '--bind',
    '127.0.0.1',
    '--rtmp-port',
    String(rtmpPort),
    '--http-port',
    String(httpPort),
    '--rtmps-port',
    String(rtmpsPort),
    '--https-port',
    String(httpsPort),
    '--data-path',
    join(dir, 'data'),
    '--record-path',
    join(dir, 'record'),
    '--no-admin',
  ];
  return { dir, args, rtmpPort, httpPort };
}
