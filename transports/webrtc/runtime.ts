import ndc from 'node-datachannel';

/**
 * Stops node-datachannel's native threads. Call once at process (or owning thread) exit, after
 * every WhepService is closed: the library is process-global.
 */
export function shutdownWebrtcRuntime(): void {
  ndc.cleanup();
}
