import type { TranscodeTemplate } from './types.js';

/**
 * ffmpeg arguments for a template. Input: an FLV byte stream on stdin carrying only the tracks
 * that are transcoded (copied tracks bypass ffmpeg). Output: MPEG-TS on stdout.
 *
 * Why MPEG-TS: ffmpeg 4.1 cannot put Opus in FLV; TS carries both H.264 (Annex-B) and Opus with
 * 90 kHz PTS/DTS, and with `-copyts -mpegts_copyts 1` those are the input's timestamps, so output
 * frames land on the input timeline (and stay there across restarts) without guessing offsets.
 * `-pes_payload_size 0` stops the muxer from batching audio packets; `-omit_video_pes_length 0`
 * writes PES lengths so a frame is emitted as soon as it is complete; `-flush_packets 1` writes
 * each packet to the pipe at once.
 */
export function ffmpegArgs(
  t: TranscodeTemplate,
  tracks: { video: boolean; audio: boolean },
  extra: string[] = [],
): string[] {
  const args = [
    '-hide_banner',
    '-nostdin',
    '-loglevel',
    'level+warning',
    '-probesize',
    '4096',
    '-analyzeduration',
    '0',
    '-f',
    'flv',
    '-i',
    'pipe:0',
    '-copyts',
  ];
  if (tracks.video && t.video && t.video !== 'copy') {
    const gopS = (t.video.gopMs / 1000).toFixed(3);
    args.push(
      '-map',
      '0:v:0',
      '-c:v',
      'libx264',
      '-profile:v',
      'baseline',
      '-preset',
      'veryfast',
      '-tune',
      'zerolatency',
    );
    args.push('-pix_fmt', 'yuv420p', '-bf', '0', '-g', '600', '-keyint_min', '1', '-sc_threshold', '0');
    args.push('-force_key_frames', `expr:if(isnan(prev_forced_t),1,gte(t,prev_forced_t+${gopS}))`);
    if (t.video.bitrateKbps) {
      const k = t.video.bitrateKbps;
      args.push('-b:v', `${k}k`, '-maxrate', `${k}k`, '-bufsize', `${k}k`);
    } else {
      args.push('-crf', '23');
    }
    args.push('-vsync', 'passthrough');
  }
  if (tracks.audio && t.audio !== 'copy') {
    args.push(
      '-map',
      '0:a:0',
      '-c:a',
      'libopus',
      '-b:a',
      `${t.audio.bitrateKbps}k`,
      '-ar',
      '48000',
      '-ac',
      '2',
    );
    args.push('-frame_duration', '20');
  }
  args.push(
    ...extra,
    '-f',
    'mpegts',
    '-mpegts_copyts',
    '1',
    '-pes_payload_size',
    '0',
    '-omit_video_pes_length',
    '0',
    '-muxdelay',
    '0',
    '-muxpreload',
    '0',
    '-flush_packets',
    '1',
    'pipe:1',
  );
  return args;
}
