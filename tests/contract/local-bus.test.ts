import { LocalBus } from '../../engine/bus/local-bus.js';
import { busContract } from './bus.contract.js';

busContract('LocalBus', { create: async () => new LocalBus(), kvTtlMs: 300 });
