/**
 * A tag's identity across publisher and players: its media timestamp and kind. The publisher
 * writes continuous timestamps, so within a run (key → send time) is one-to-one.
 */
export function tagKey(typeId: number, timestamp: number): number {
  return timestamp * 4 + (typeId === 9 ? 1 : typeId === 8 ? 2 : 3);
}
