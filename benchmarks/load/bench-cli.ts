/** Placeholder replaced by the load tool (rts bench). */
export async function runBenchCli(_argv: string[]): Promise<void> {
  throw new Error('rts bench is not built yet');
}
