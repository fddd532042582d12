import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const execFileAsync = promisify(execFile);

/** What benchmarks/webrtc/whep-load.ts reports that the tests look at. */
export interface WhepLoadReport {
  clients: { connected: number; videoPackets: number; audioPackets: number };
}

/**
 * Runs `viewers` headless node-datachannel WHEP viewers of `url` for `seconds` in one child
 * process (benchmarks/webrtc/whep-load.ts) and returns its report.
 */
export async function runWhepLoad(url: string, viewers: number, seconds: number): Promise<WhepLoadReport> {
  const args = ['--import', 'tsx', 'benchmarks/webrtc/whep-load.ts', '--url', url];
  args.push('--viewers', String(viewers), '--seconds', String(seconds), '--procs', '1');
  const { stdout } = await execFileAsync(process.execPath, args, {
    encoding: 'utf8',
    timeout: 60_000 + seconds * 1000,
    maxBuffer: 1 << 24,
  });
  return JSON.parse(stdout) as WhepLoadReport;
}
