/**
 * The RTS ingest rules of the service we model: RTS plays streams without B-frames, not H.265,
 * with a GOP of at most 3 s. A stream that breaks one is refused for RTS with a one-line reason
 * naming the rule (RTMP/FLV/HLS keep serving it); the `rts` transcoding template makes a
 * conforming variant, pulled as `{stream}_rts`.
 */
export const RTS_MAX_GOP_MS = 3000;

export interface RtsRuleInput {
  video?: { codec: string; bFrames: boolean; gopMs: number };
}

export function rtsRefusal(info: RtsRuleInput, stream: string): string | undefined {
  const v = info.video;
  if (!v) return undefined;
  const fix = `pull ${stream}_rts for a transcoded stream that RTS can play`;
  if (v.codec === 'h265') return `RTS does not play H.265: publish H.264, or ${fix}`;
  if (v.codec !== 'h264') return `RTS plays H.264 video only, this stream is ${v.codec}: ${fix}`;
  if (v.bFrames) return `RTS needs a stream without B-frames, this one has B-frames: ${fix}`;
  if (v.gopMs > RTS_MAX_GOP_MS) {
    return `RTS needs a GOP of at most ${RTS_MAX_GOP_MS / 1000} s, this stream's is ${(v.gopMs / 1000).toFixed(1)} s: ${fix}`;
  }
  return undefined;
}
