import { describe, expect, it } from 'vitest';
import { PlayerError, rtsUrlToEndpoints } from '../../../player/sdk/sdk.js';

describe('rtsUrlToEndpoints()', () => {
  it('maps artc:// to WHEP, FLV and HLS over http, keeping port and query', () => {
    expect(rtsUrlToEndpoints('artc://example.com:8080/live/cam1?auth_key=1-0-0-abc', 'http:')).toEqual({
      webrtc: 'http://example.com:8080/live/cam1?auth_key=1-0-0-abc',
      flv: 'http://example.com:8080/live/cam1.flv?auth_key=1-0-0-abc',
      hls: 'http://example.com:8080/live/cam1.m3u8?auth_key=1-0-0-abc',
    });
  });

  it('uses https for every endpoint when the page is https', () => {
    const e = rtsUrlToEndpoints('artc://example.com/app/s', 'https:');
    expect(e.webrtc).toBe('https://example.com/app/s');
    expect(e.flv).toBe('https://example.com/app/s.flv');
  });

  it('plays .flv URLs with an HLS fallback, and .m3u8 URLs with HLS only', () => {
    expect(rtsUrlToEndpoints('http://h/app/s.flv?k=v')).toEqual({
      flv: 'http://h/app/s.flv?k=v',
      hls: 'http://h/app/s.m3u8?k=v',
    });
    expect(rtsUrlToEndpoints('https://h/app/s.m3u8')).toEqual({ hls: 'https://h/app/s.m3u8' });
  });

  it('takes other http URLs as WHEP endpoints', () => {
    expect(rtsUrlToEndpoints('http://h/app/s').webrtc).toBe('http://h/app/s');
  });

  it('rejects other schemes with a coded error', () => {
    expect(() => rtsUrlToEndpoints('rtmp://h/app/s')).toThrow(PlayerError);
  });
});
