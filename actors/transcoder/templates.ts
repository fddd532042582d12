import type { TranscodeTemplate } from './types.js';

/**
 * The RTS template: H.264 constrained baseline without B-frames, a keyframe every second,
 * x264 zerolatency, and Opus audio, so WebRTC can play it.
 */
export const RTS_TEMPLATE: TranscodeTemplate = Object.freeze({
  id: 'rts',
  video: Object.freeze({ codec: 'h264', profile: 'baseline', gopMs: 1000 }) as TranscodeTemplate['video'],
  audio: Object.freeze({ codec: 'opus', bitrateKbps: 64 }) as TranscodeTemplate['audio'],
});

/** AAC → Opus only; video is passed through untouched. */
export const AUDIO_OPUS_TEMPLATE: TranscodeTemplate = Object.freeze({
  id: 'audio-opus',
  video: 'copy',
  audio: Object.freeze({ codec: 'opus', bitrateKbps: 64 }) as TranscodeTemplate['audio'],
});

export const BUILTIN_TEMPLATES: ReadonlyMap<string, TranscodeTemplate> = new Map([
  [RTS_TEMPLATE.id, RTS_TEMPLATE],
  [AUDIO_OPUS_TEMPLATE.id, AUDIO_OPUS_TEMPLATE],
]);

/** The variant stream name: `live` + `rts` → `live_rts`. */
export function variantStreamName(stream: string, template: Pick<TranscodeTemplate, 'id'>): string {
  return `${stream}_${template.id}`;
}

/**
 * Splits `name_templateId` into the source stream and a known template, or undefined when the
 * suffix names no template in `templates`.
 */
export function parseVariantStreamName(
  name: string,
  templates: ReadonlyMap<string, TranscodeTemplate> = BUILTIN_TEMPLATES,
): { stream: string; template: TranscodeTemplate } | undefined {
  for (const [id, template] of templates) {
    const suffix = `_${id}`;
    if (name.length > suffix.length && name.endsWith(suffix)) {
      return { stream: name.slice(0, -suffix.length), template };
    }
  }
  return undefined;
}

export function transcodesVideo(t: TranscodeTemplate): boolean {
  return t.video !== undefined && t.video !== 'copy';
}

export function transcodesAudio(t: TranscodeTemplate): boolean {
  return t.audio !== 'copy';
}
