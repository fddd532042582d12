import { afterEach, describe, expect, it } from 'vitest';
import type { BusStatus } from '../../../../engine/bus/types.js';
import { NatsBus } from '../../../../transports/nats/nats-bus.js';
import {
  ensureNatsServer,
  isReachable,
  type NatsServerHandle,
  startNatsServer,
} from '../../../cluster/support/nats-server.js';
import { waitFor } from '../../../cluster/support/wait-for.js';

describe('NatsBus against a private nats-server', () => {
  let server: NatsServerHandle | undefined;
  let bus: NatsBus | undefined;
  afterEach(async () => {
    await bus?.close();
    await server?.stop();
  });

  it('reports disconnected then reconnected across a server restart, and subscriptions keep working', async () => {
    server = await startNatsServer();
    bus = await NatsBus.connect({ servers: server.url, reconnectDelayMs: 50, maxReconnectDelayMs: 200 });
    const statuses: BusStatus['type'][] = [];
    void (async () => {
      for await (const s of bus!.status()) statuses.push(s.type);
    })();
    const got: string[] = [];
    bus.subscribe('after.restart', { callback: (m) => got.push(new TextDecoder().decode(m.data)) });
    await bus.flush();
    await server.restart({ downMs: 200 });
    await waitFor(() => (statuses.includes('reconnected') ? undefined : `statuses: ${statuses.join(',')}`), {
      timeoutMs: 8000,
    });
    expect(statuses.slice(0, 3)).toEqual(['connected', 'disconnected', 'reconnected']);
    bus.publish('after.restart', new TextEncoder().encode('hello'));
    await waitFor(() => (got.length === 1 ? undefined : 'message after reconnect not received'));
    expect(got).toEqual(['hello']);
    expect(bus.closed).toBe(false);
  }, 15_000);

  it('maps max_payload overflow to RangeError and exposes the server max_payload', async () => {
    server = await startNatsServer();
    bus = await NatsBus.connect({ servers: server.url });
    expect(bus.maxPayload).toBe(1024 * 1024);
    expect(() => bus!.publish('big', new Uint8Array(bus!.maxPayload + 1))).toThrow(RangeError);
  }, 15_000);

  it('whenClosed() resolves once the connection closes and status() ends with closed', async () => {
    server = await startNatsServer();
    bus = await NatsBus.connect({ servers: server.url });
    const seen: string[] = [];
    const done = (async () => {
      for await (const s of bus!.status()) seen.push(s.type);
    })();
    await bus.close();
    expect(await bus.whenClosed()).toBeUndefined();
    await done;
    expect(seen).toEqual(['connected', 'closed']);
  }, 15_000);

  it('ensureNatsServer() starts its own server when NATS_URL does not answer, and stop() removes it', async () => {
    const saved = process.env.NATS_URL;
    process.env.NATS_URL = 'nats://127.0.0.1:1';
    try {
      server = await ensureNatsServer();
    } finally {
      if (saved === undefined) delete process.env.NATS_URL;
      else process.env.NATS_URL = saved;
    }
    expect(server.owned).toBe(true);
    expect(server.url).not.toBe('nats://127.0.0.1:1');
    expect(await isReachable(server.url)).toBe(true);
    await server.stop();
    expect(await isReachable(server.url)).toBe(false);
  }, 15_000);
});
