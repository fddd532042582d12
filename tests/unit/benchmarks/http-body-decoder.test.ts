import { describe, expect, it } from 'vitest';
import { HttpBodyDecoder, HttpResponseError } from '../../../benchmarks/load/raw-flv-reader.js';

function run(pieces: string[]): {
  status: number;
  headers: Map<string, string> | undefined;
  body: string;
  done: boolean;
} {
  let status = 0;
  let headers: Map<string, string> | undefined;
  let body = '';
  const d = new HttpBodyDecoder(
    (s, h) => {
      status = s;
      headers = h;
    },
    (b) => {
      body += Buffer.from(b).toString('latin1');
    },
  );
  for (const p of pieces) d.push(Buffer.from(p, 'latin1'));
  return { status, headers, body, done: d.done };
}

function everySplit(text: string): string[][] {
  const out: string[][] = [[text]];
  for (let i = 1; i < text.length; i++) out.push([text.slice(0, i), text.slice(i)]);
  out.push(text.split(''));
  return out;
}

describe('HttpBodyDecoder', () => {
  it('push() undoes chunked transfer-encoding for every split of the response', () => {
    const resp =
      'HTTP/1.1 200 OK\r\nContent-Type: video/x-flv\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nFLV\x01\x05\r\n3;ext=1\r\nabc\r\n0\r\n\r\n';
    for (const pieces of everySplit(resp)) {
      const r = run(pieces);
      expect(r.status).toBe(200);
      expect(r.headers?.get('content-type')).toBe('video/x-flv');
      expect(r.body).toBe('FLV\x01\x05abc');
      expect(r.done).toBe(true);
    }
  });

  it('push() passes an identity body through as it comes', () => {
    const resp = 'HTTP/1.0 200 OK\r\nConnection: close\r\n\r\nFLV\x01\x05xyz';
    for (const pieces of everySplit(resp)) expect(run(pieces).body).toBe('FLV\x01\x05xyz');
  });

  it('push() reports a non-200 status', () => {
    expect(run(['HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n']).status).toBe(404);
  });

  it('push() throws HttpResponseError on a bad status line or chunk size', () => {
    expect(() => run(['RTSP/1.0 200 OK\r\n\r\n'])).toThrow(HttpResponseError);
    expect(() => run(['HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n'])).toThrow(
      /bad chunk size/,
    );
  });
});
