import { describe, expect, it } from 'vitest';
import { RefusedError } from '../../../../engine/errors.js';
import { decodeAmf0All, encodeAmf0 } from '../../../../media/amf0/index.js';
import {
  commandMessage,
  DEFAULT_RTMP_LIMITS,
  decodeCommand,
  type RtmpMediaMessage,
  type RtmpMessage,
  RtmpProtocolError,
  RtmpServerSession,
  type RtmpStreamRequest,
} from '../../../../transports/rtmp/index.js';

function setup() {
  const sent: RtmpMessage[] = [];
  const requests: RtmpStreamRequest[] = [];
  const media: RtmpMediaMessage[] = [];
  const stopped: string[] = [];
  const ended: string[] = [];
  const session = new RtmpServerSession(
    {
      send: (m) => sent.push(m),
      requestPublish: (r) => requests.push(r),
      requestPlay: (r) => requests.push(r),
      media: (_, m) => media.push(m),
      stopped: (id, kind, reason) => stopped.push(`${id}:${kind}:${reason}`),
      end: (reason) => ended.push(reason),
    },
    DEFAULT_RTMP_LIMITS,
  );
  const statuses = () =>
    sent
      .filter((m) => m.typeId === 20)
      .map((m) => decodeCommand(m))
      .filter((c) => c.name === 'onStatus')
      .map((c) => (c.args[0] as { code: string }).code);
  return { session, sent, requests, media, stopped, ended, statuses };
}

const cmd = (
  streamId: number,
  name: string,
  txn: number,
  obj: Record<string, string> | null,
  ...args: Array<string | number>
) => commandMessage(streamId, name, txn, obj, ...args);

function connectAndCreate(t: ReturnType<typeof setup>, app = 'live?domain=a.example'): void {
  t.session.handle(cmd(0, 'connect', 1, { app, tcUrl: `rtmp://cdn.example:1935/${app}` }));
  t.session.handle(cmd(0, 'createStream', 2, null));
}

describe('RtmpServerSession (7.2)', () => {
  it('answers connect with Window Ack Size, Set Peer Bandwidth, Set Chunk Size and _result Connect.Success', () => {
    const t = setup();
    t.session.handle(cmd(0, 'connect', 1, { app: 'live', tcUrl: 'rtmp://h/live' }));
    expect(t.sent.map((m) => m.typeId)).toEqual([5, 6, 1, 20]);
    const result = decodeCommand(t.sent[3]);
    expect(result.name).toBe('_result');
    expect(result.transactionId).toBe(1);
    expect(result.args[0]).toMatchObject({ code: 'NetConnection.Connect.Success' });
  });

  it('publish: request with app, name, query, host and uri; Publish.Start once accepted; media with unwrapped timestamps', () => {
    const t = setup();
    connectAndCreate(t);
    expect(decodeCommand(t.sent.at(-1)!).args).toEqual([1]);
    t.session.handle(cmd(1, 'publish', 0, null, 'cam?auth_key=k', 'live'));
    expect(t.requests[0]).toMatchObject({
      kind: 'publish',
      app: 'live',
      name: 'cam',
      host: 'cdn.example',
      uri: '/live/cam',
      query: { domain: 'a.example', auth_key: 'k' },
      publishType: 'live',
      streamId: 1,
    });
    const video = (ts: number): RtmpMessage => ({
      typeId: 9,
      streamId: 1,
      timestamp: ts,
      payload: Uint8Array.of(0x17),
      csid: 6,
    });
    t.session.handle(video(0));
    expect(t.media).toHaveLength(0); // not yet accepted
    expect(t.session.droppedMessages).toBe(1);
    t.session.acceptPublish(1);
    expect(t.statuses()).toEqual(['NetStream.Publish.Start']);
    for (const ts of [0xfffffff0, 0x10, 0x20]) t.session.handle(video(ts));
    expect(t.media.map((m) => m.timestamp)).toEqual([0xfffffff0, 0x100000010, 0x100000020]);
  });

  it('strips @setDataFrame: the stored body starts at "onMetaData"', () => {
    const t = setup();
    connectAndCreate(t);
    t.session.handle(cmd(1, 'publish', 0, null, 'cam'));
    t.session.acceptPublish(1);
    const payload = encodeAmf0('@setDataFrame', 'onMetaData', { width: 1280 });
    t.session.handle({ typeId: 18, streamId: 1, timestamp: 0, payload, csid: 5 });
    expect(t.media[0].name).toBe('onMetaData');
    expect(decodeAmf0All(t.media[0].payload)).toEqual(['onMetaData', { width: 1280 }]);
    expect(t.media[0].payload.buffer).toBe(payload.buffer);
  });

  it('splits aggregate messages into their FLV tags, rebased on the aggregate timestamp', () => {
    const t = setup();
    connectAndCreate(t);
    t.session.handle(cmd(1, 'publish', 0, null, 'cam'));
    t.session.acceptPublish(1);
    const tag = (type: number, ts: number, body: number[]) => [
      type,
      0,
      0,
      body.length,
      0,
      0,
      ts,
      0,
      0,
      0,
      0,
      ...body,
      0,
      0,
      0,
      11 + body.length,
    ];
    const payload = Uint8Array.from([...tag(9, 100, [0x17, 1]), ...tag(8, 120, [0xaf, 1, 2])]);
    t.session.handle({ typeId: 22, streamId: 1, timestamp: 5000, payload, csid: 6 });
    expect(t.media.map((m) => [m.typeId, m.timestamp, m.payload.length])).toEqual([
      [9, 5000, 2],
      [8, 5020, 3],
    ]);
  });

  it('refuse(): BadName for RefusedError 409, StreamNotFound for 404, then the connection ends', () => {
    const t = setup();
    connectAndCreate(t);
    t.session.handle(cmd(1, 'publish', 0, null, 'cam'));
    t.session.refuse(1, new RefusedError('RTS_ERR_STREAM_BUSY', 'busy', 409));
    t.session.handle(cmd(0, 'createStream', 3, null));
    t.session.handle(cmd(2, 'play', 0, null, 'none'));
    t.session.refuse(2, new RefusedError('RTS_ERR_NOT_FOUND', 'nope', 404));
    expect(t.statuses()).toEqual(['NetStream.Publish.BadName', 'NetStream.Play.StreamNotFound']);
    expect(t.ended).toHaveLength(2);
  });

  it('play: Stream Begin, Play.Reset, Play.Start and |RtmpSampleAccess once accepted; playEnded sends UnpublishNotify + EOF', () => {
    const t = setup();
    connectAndCreate(t);
    t.session.handle(cmd(1, 'play', 0, null, 'cam', -2));
    expect(t.requests[0].kind).toBe('play');
    const before = t.sent.length;
    t.session.acceptPlay(1);
    expect(t.sent.slice(before).map((m) => m.typeId)).toEqual([4, 20, 20, 18]);
    expect(t.statuses()).toEqual(['NetStream.Play.Reset', 'NetStream.Play.Start']);
    t.session.playEnded(1);
    expect(t.statuses().at(-1)).toBe('NetStream.Play.UnpublishNotify');
    expect(Array.from(t.sent.at(-1)!.payload)).toEqual([0, 1, 0, 0, 0, 1]);
  });

  it('FCUnpublish/deleteStream stop a publish once, with Unpublish.Success', () => {
    const t = setup();
    connectAndCreate(t);
    t.session.handle(cmd(1, 'publish', 0, null, 'cam'));
    t.session.acceptPublish(1);
    t.session.handle(cmd(0, 'FCUnpublish', 4, null, 'cam'));
    t.session.handle(cmd(0, 'deleteStream', 5, null, 1));
    expect(t.stopped).toEqual(['1:publish:FCUnpublish']);
    expect(t.statuses().filter((s) => s === 'NetStream.Unpublish.Success')).toHaveLength(1);
  });

  it('answers pings and acknowledges the peer window; rejects commands before connect', () => {
    const t = setup();
    expect(() => t.session.handle(cmd(0, 'createStream', 2, null))).toThrow(RtmpProtocolError);
    t.session.handle({
      typeId: 4,
      streamId: 0,
      timestamp: 0,
      payload: Uint8Array.of(0, 6, 0, 0, 1, 2),
      csid: 2,
    });
    expect(Array.from(t.sent[0].payload)).toEqual([0, 7, 0, 0, 1, 2]);
    t.session.handle({
      typeId: 5,
      streamId: 0,
      timestamp: 0,
      payload: Uint8Array.of(0, 0, 0x03, 0xe8),
      csid: 2,
    });
    t.session.bytesReceived(999);
    expect(t.sent).toHaveLength(1);
    t.session.bytesReceived(1000);
    expect(t.sent[1].typeId).toBe(3);
  });
});
