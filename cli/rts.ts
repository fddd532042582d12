#!/usr/bin/env node
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { signUrl } from '../engine/access/auth-key.js';
import type { ConfigInput } from '../engine/config/config.js';
import { createLogger, stderrSink } from '../engine/logging/logger.js';
import { createNode } from '../engine/node.js';

const HELP = `rts: a low-latency live streaming node (RTMP in; RTMP, HTTP-FLV, HLS, WebRTC out)

usage:
  rts serve [--config FILE] [--rtmp-port N] [--http-port N] [--rtc-port N] [--rtc-announce IP]
            [--rtc-processes N]
            [--workers N] [--host ADDR] [--log-level debug|info|warn|error]
  rts sign URL --key KEY [--ttl SECONDS]     print URL signed with auth_key (Type A)
  rts bench [options]                         load-test an RTMP/HTTP-FLV/WHEP server (rts bench --help)
`;

async function serve(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      config: { type: 'string' },
      'rtmp-port': { type: 'string' },
      'http-port': { type: 'string' },
      'rtc-port': { type: 'string' },
      'rtc-announce': { type: 'string' },
      'rtc-processes': { type: 'string' },
      workers: { type: 'string' },
      host: { type: 'string' },
      'log-level': { type: 'string' },
      nats: { type: 'string' },
      'node-id': { type: 'string' },
      region: { type: 'string' },
    },
  });
  const cfg: ConfigInput = values.config
    ? (JSON.parse(readFileSync(values.config, 'utf8')) as ConfigInput)
    : {};
  const num = (v: string | undefined, name: string): number | undefined => {
    if (v === undefined) return undefined;
    const n = Number(v);
    if (!Number.isInteger(n)) throw new Error(`--${name} must be an integer`);
    return n;
  };
  const rtmpPort = num(values['rtmp-port'], 'rtmp-port');
  const httpPort = num(values['http-port'], 'http-port');
  const rtcPort = num(values['rtc-port'], 'rtc-port');
  const rtcProcesses = num(values['rtc-processes'], 'rtc-processes');
  const workers = num(values.workers, 'workers');
  if (rtmpPort !== undefined) cfg.rtmp = { ...cfg.rtmp, port: rtmpPort };
  if (httpPort !== undefined) cfg.http = { ...cfg.http, port: httpPort };
  if (rtcPort !== undefined || values['rtc-announce'] || rtcProcesses !== undefined) {
    cfg.rtc = {
      ...cfg.rtc,
      ...(rtcPort !== undefined ? { port: rtcPort } : {}),
      ...(values['rtc-announce'] ? { announce: values['rtc-announce'] } : {}),
      ...(rtcProcesses !== undefined ? { processes: rtcProcesses } : {}),
    };
  }
  if (workers !== undefined) cfg.workers = workers;
  if (values.host) cfg.host = values.host;
  if (values['log-level']) cfg.log = { level: values['log-level'] as 'info' };
  if (values.nats)
    cfg.nats = {
      servers: values.nats,
      nodeId: values['node-id'] ?? `node-${process.pid}`,
      region: values.region,
    };
  await startTelemetry();
  const level = cfg.log?.level ?? 'info';
  const logger = createLogger(stderrSink, level);
  const node = await createNode({ config: cfg, logger });
  const { rtmp, http } = node.ports;
  console.log(
    `rts-engine listening: rtmp://${node.config.host}:${rtmp} http://${node.config.host}:${http} (workers: ${node.workers.size})`,
  );
  // A served node opens its WebRTC UDP ports now, as a user of SRS expects (an embedded node starts
  // them on its first RTS viewer).
  const rtc = node.workers.rtc;
  rtc.ensure().then(
    () =>
      logger.info('WebRTC egress ready', {
        processes: rtc.count,
        udpPorts: `${node.config.rtc.port}..${node.config.rtc.port + rtc.count - 1}`,
      }),
    (err) => logger.error('WebRTC egress did not start', { error: String(err) }),
  );
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) {
      process.exit(1);
    }
    stopping = true;
    logger.info('shutting down', { signal });
    node.close().then(
      () => process.exit(0),
      (err) => {
        logger.error('shutdown failed', { error: String(err) });
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
}

/**
 * Starts the OpenTelemetry SDK when the environment asks for an exporter (OTEL_METRICS_EXPORTER,
 * OTEL_EXPORTER_OTLP_ENDPOINT, …); the engine's instruments are no-ops otherwise.
 */
async function startTelemetry(): Promise<void> {
  const env = process.env;
  if (
    !env.OTEL_METRICS_EXPORTER &&
    !env.OTEL_EXPORTER_OTLP_ENDPOINT &&
    !env.OTEL_EXPORTER_OTLP_METRICS_ENDPOINT
  )
    return;
  const { NodeSDK } = await import('@opentelemetry/sdk-node');
  const sdk = new NodeSDK({ serviceName: env.OTEL_SERVICE_NAME ?? 'rts-engine' });
  sdk.start();
  process.once('beforeExit', () => void sdk.shutdown());
}

function sign(argv: string[]): void {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: { key: { type: 'string' }, ttl: { type: 'string', default: '3600' } },
  });
  const url = positionals[0];
  if (!url || !values.key) throw new Error('usage: rts sign URL --key KEY [--ttl SECONDS]');
  console.log(signUrl(url, values.key, Number(values.ttl)));
}

async function main(): Promise<void> {
  const [cmd, ...rest] = process.argv.slice(2);
  switch (cmd) {
    case 'serve':
    case undefined: {
      return serve(rest);
    }
    case 'sign': {
      return sign(rest);
    }
    case 'bench': {
      const { runBenchCli } = await import('../benchmarks/load/bench-cli.js');
      return runBenchCli(rest);
    }
    case 'help':
    case '--help':
    case '-h': {
      console.log(HELP);
      return;
    }
    default: {
      console.error(`unknown command ${cmd}\n${HELP}`);
      process.exit(2);
    }
  }
}

main().catch((err) => {
  console.error(`rts: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
