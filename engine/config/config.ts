/** The node's configuration: JSON on disk, typed here, every key with a default. */
export type DomainType = 'ingest' | 'play' | 'rts';

export interface DomainConfig {
  name: string;
  type: DomainType;
  /** For play/rts domains: the ingest domain whose streams they serve. */
  ingest?: string;
  /** For a sub-streaming domain: its main streaming domain (which is bound to an ingest domain). */
  parent?: string;
  authKey?: string;
  authKey2?: string;
  /** Seconds a signed URL stays valid after its timestamp; default 0 (the timestamp is the expiry). */
  authValidity?: number;
}

export interface RtmpConfig {
  port: number;
  /** Bytes per chunk sent to players: large so a media message goes out as one chunk (header + payload view). */
  outChunkSize: number;
  maxMessageSize: number;
  handshakeTimeoutMs: number;
  idleTimeoutMs: number;
}

export interface HlsConfig {
  targetDurationMs: number;
  windowSegments: number;
  partTargetMs: number;
  /** First LL-HLS playlist once a whole segment exists (hls.js) or once a part does (transports/hls/types.ts). */
  llStartWith: 'segment' | 'part';
  onDemand: boolean;
  idleStopMs: number;
  endGraceMs: number;
}

export interface PlayerLimits {
  /** Bytes queued to a player socket beyond which it is congested: frames are skipped to the next keyframe. */
  maxQueuedBytes: number;
  /** A player that stays congested this long is closed. */
  stallTimeoutMs: number;
  /** Merged writes: hold frames for a player up to this many ms and write them together (0 = write at once). */
  mergeWriteMs: number;
}

/** A transcoding template (`{stream}_{id}` pulls it); see actors/transcoder/types.ts. */
export interface TranscodeTemplateConfig {
  id: string;
  video?: 'copy' | { codec: 'h264'; profile: 'baseline'; gopMs: number; bitrateKbps?: number };
  audio: 'copy' | { codec: 'opus'; bitrateKbps: number };
}

export interface Config {
  host: string;
  workers: number;
  rtmp: RtmpConfig;
  http: { port: number; maxHeaderBytes: number };
  /**
   * WebRTC egress: `processes` child processes (0 = one per core), process i owning UDP port
   * `port + i`. `ipcWindowBytes`: frame bytes forwarded to one process and not yet acknowledged
   * by it; beyond it that process's streams skip to their next keyframe (a stalled process never
   * grows the node's memory).
   */
  rtc: { port: number; announce?: string; processes: number; ipcWindowBytes: number };
  hls: HlsConfig;
  players: PlayerLimits;
  limits: { maxConnections: number; ringBytes: number };
  domains: DomainConfig[];
  /**
   * Templates beside the built-in `rts` and `audio-opus`; a variant stops after idleStopMs without
   * players. `opusOnPublish`: start the `audio-opus` transcode of every AAC publisher at once and
   * keep it while the stream lives, so the first RTS viewer does not wait for ffmpeg to start.
   */
  transcode: { templates: TranscodeTemplateConfig[]; idleStopMs: number; opusOnPublish: boolean };
  /** How long a stream's GOP is kept after its publisher leaves, for a quick reconnect. */
  unpublishGraceMs: number;
  nats?: { servers: string; nodeId: string; region?: string };
  log: { level: 'debug' | 'info' | 'warn' | 'error' };
}

export const DEFAULT_CONFIG: Config = {
  host: '0.0.0.0',
  workers: 0, // 0: number of cores
  rtmp: {
    port: 1935,
    outChunkSize: 0xffffff,
    maxMessageSize: 16 * 1024 * 1024,
    handshakeTimeoutMs: 10_000,
    idleTimeoutMs: 30_000,
  },
  http: { port: 8080, maxHeaderBytes: 16 * 1024 },
  rtc: { port: 8000, processes: 0, ipcWindowBytes: 4 * 1024 * 1024 },
  hls: {
    targetDurationMs: 2000,
    windowSegments: 6,
    partTargetMs: 250,
    llStartWith: 'segment',
    onDemand: true,
    idleStopMs: 30_000,
    endGraceMs: 5000,
  },
  players: { maxQueuedBytes: 1024 * 1024, stallTimeoutMs: 15_000, mergeWriteMs: 0 },
  limits: { maxConnections: 20_000, ringBytes: 8 * 1024 * 1024 },
  domains: [],
  transcode: { templates: [], idleStopMs: 15_000, opusOnPublish: false },
  unpublishGraceMs: 0,
  log: { level: 'info' },
};

export type ConfigInput = {
  [K in keyof Config]?: Config[K] extends unknown[]
    ? Config[K]
    : Config[K] extends object
      ? Partial<Config[K]>
      : Config[K];
};

export class ConfigError extends Error {
  override name = 'ConfigError';
}

/** Merges the input over the defaults and validates it; throws ConfigError naming the bad key. */
export function resolveConfig(input: ConfigInput = {}): Config {
  const d = DEFAULT_CONFIG;
  const c: Config = {
    ...d,
    ...input,
    rtmp: { ...d.rtmp, ...input.rtmp },
    http: { ...d.http, ...input.http },
    rtc: { ...d.rtc, ...input.rtc },
    hls: { ...d.hls, ...input.hls },
    players: { ...d.players, ...input.players },
    limits: { ...d.limits, ...input.limits },
    log: { ...d.log, ...input.log },
    transcode: { ...d.transcode, ...input.transcode },
    domains: input.domains ?? [],
    nats: input.nats as Config['nats'],
  };
  const port = (v: number, key: string) => {
    if (!Number.isInteger(v) || v < 0 || v > 65535)
      throw new ConfigError(`${key} must be a port number, got ${v}`);
  };
  port(c.rtmp.port, 'rtmp.port');
  port(c.http.port, 'http.port');
  port(c.rtc.port, 'rtc.port');
  if (!Number.isInteger(c.rtc.processes) || c.rtc.processes < 0 || c.rtc.processes > 64)
    throw new ConfigError('rtc.processes must be 0..64');
  if (!Number.isInteger(c.rtc.ipcWindowBytes) || c.rtc.ipcWindowBytes < 64 * 1024)
    throw new ConfigError('rtc.ipcWindowBytes must be an integer >= 65536');
  port(c.rtc.port + Math.max(0, c.rtc.processes - 1), 'rtc.port + rtc.processes - 1');
  if (!Number.isInteger(c.workers) || c.workers < 0 || c.workers > 256)
    throw new ConfigError('workers must be 0..256');
  if (c.rtmp.outChunkSize < 128 || c.rtmp.outChunkSize > 0xffffff)
    throw new ConfigError('rtmp.outChunkSize must be 128..16777215');
  const names = new Set<string>();
  for (const dom of c.domains) {
    if (!dom.name || typeof dom.name !== 'string') throw new ConfigError('domains[].name is required');
    if (names.has(dom.name)) throw new ConfigError(`domain ${dom.name} appears twice`);
    names.add(dom.name);
    if (!['ingest', 'play', 'rts'].includes(dom.type))
      throw new ConfigError(`domain ${dom.name}: bad type ${dom.type}`);
  }
  for (const dom of c.domains) {
    if (dom.ingest && !c.domains.some((o) => o.name === dom.ingest && o.type === 'ingest'))
      throw new ConfigError(`domain ${dom.name}: ingest domain ${dom.ingest} is not configured`);
    if (dom.parent && !c.domains.some((o) => o.name === dom.parent && o.type !== 'ingest'))
      throw new ConfigError(`domain ${dom.name}: parent ${dom.parent} is not a streaming domain`);
    if (dom.type !== 'ingest' && !dom.ingest && !dom.parent)
      throw new ConfigError(`domain ${dom.name}: a ${dom.type} domain needs 'ingest' or 'parent'`);
  }
  return c;
}
