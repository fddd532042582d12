import ndc from 'node-datachannel';
import { tracksClosed } from './ndc-lifetime.js';

/**
 * Stops node-datachannel's native threads. Call once at process (or owning thread) exit, after
 * every WhepService is closed: the library is process-global. Waits (bounded) for the closed
 * tracks' callbacks first, so its CloseAll finds no wrapper half torn down (ndc-lifetime.ts).
 */
export async function shutdownWebrtcRuntime(): Promise<void> {
  await tracksClosed();
  ndc.cleanup();
}
