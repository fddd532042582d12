import { afterAll, beforeAll } from 'vitest';
import { NatsBus } from '../../transports/nats/nats-bus.js';
import { ensureNatsServer, type NatsServerHandle } from '../cluster/support/nats-server.js';
import { busContract } from './bus.contract.js';

let server: NatsServerHandle;
beforeAll(async () => {
  server = await ensureNatsServer();
}, 15_000);
afterAll(async () => {
  await server?.stop();
});

busContract('NatsBus', {
  create: () => NatsBus.connect({ servers: server.url, name: 'rts-contract' }),
  kvTtlMs: 1000,
});
