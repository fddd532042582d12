/**
 * WHEP paths name a stream as `/{domain}~{app}/{stream}` so that session URLs
 * (`…/session/{id}`) route back to the RTC worker with no per-session state on the main thread.
 * Kept apart from the service so the main thread never loads node-datachannel.
 */
export function whepKeyOf(app: string, stream: string): string {
  return `${app.replace('~', '/')}/${stream}`;
}

export function whepPathOf(key: string): string {
  const [domain, app, ...name] = key.split('/');
  return `/${domain}~${app}/${name.join('/')}`;
}
