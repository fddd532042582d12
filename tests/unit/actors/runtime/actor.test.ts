import { describe, expect, it } from 'vitest';
import { type ActorLogic, ActorSystem } from '../../../../actors/runtime/actor.js';
import { ActorStoppedError } from '../../../../engine/errors.js';

type Msg =
  | { type: 'add'; n: number }
  | { type: 'get' }
  | { type: 'slow'; n: number; ms: number }
  | { type: 'boom' };

const counter: ActorLogic<number[], Msg> = {
  initial: () => [],
  receive: async (state, msg, _ctx, reply) => {
    switch (msg.type) {
      case 'add': {
        return [...state, msg.n];
      }
      case 'slow': {
        await new Promise((r) => setTimeout(r, msg.ms));
        return [...state, msg.n];
      }
      case 'get': {
        reply(state);
        return state;
      }
      case 'boom': {
        throw new Error('boom');
      }
    }
  },
};

describe('actor runtime', () => {
  it('processes messages in order, never re-entrantly, even when a transition awaits', async () => {
    const sys = new ActorSystem();
    const a = sys.spawn('c', counter);
    a.tell({ type: 'slow', n: 1, ms: 20 });
    a.tell({ type: 'add', n: 2 });
    a.tell({ type: 'slow', n: 3, ms: 5 });
    expect(await a.ask({ type: 'get' })).toEqual([1, 2, 3]);
    await sys.stopAll();
  });

  it('stop is queued behind pending messages, later asks reject with ActorStoppedError', async () => {
    const sys = new ActorSystem();
    const a = sys.spawn('c', counter);
    a.tell({ type: 'add', n: 1 });
    const got = a.ask({ type: 'get' });
    a.stop();
    expect(await got).toEqual([1]);
    await a.whenStopped();
    await expect(a.ask({ type: 'get' })).rejects.toBeInstanceOf(ActorStoppedError);
    expect(sys.size).toBe(0);
  });

  it('a crashing actor is stopped and reported to its parent', async () => {
    const failures: string[] = [];
    const sys = new ActorSystem(undefined, (name, err) => failures.push(`${name}:${err.message}`));
    const a = sys.spawn('c', counter);
    await expect(a.ask({ type: 'boom' })).rejects.toThrow('boom');
    await a.whenStopped();
    expect(failures).toEqual(['c:boom']);
    expect(a.stopped).toBe(true);
  });
});
