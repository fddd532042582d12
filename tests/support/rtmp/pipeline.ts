import {
  ChunkReader,
  DEFAULT_RTMP_LIMITS,
  type RtmpLimits,
  type RtmpMediaMessage,
  RtmpServerHandshake,
  RtmpServerSession,
  type RtmpStreamRequest,
} from '../../../transports/rtmp/index.js';

/** The server's socket-free stack (handshake → chunk reader → session), accepting every request. */
export function serverPipeline(limits: Partial<RtmpLimits> = {}) {
  const all = { ...DEFAULT_RTMP_LIMITS, ...limits };
  const requests: RtmpStreamRequest[] = [];
  const media: RtmpMediaMessage[] = [];
  const stopped: string[] = [];
  let sentBytes = 0;
  let session!: RtmpServerSession;
  session = new RtmpServerSession(
    {
      send: (m) => {
        sentBytes += m.payload.length;
      },
      requestPublish: (r) => {
        requests.push(r);
        session.acceptPublish(r.streamId);
      },
      requestPlay: (r) => {
        requests.push(r);
        session.acceptPlay(r.streamId);
      },
      media: (_, m) => media.push(m),
      stopped: (id, kind, reason) => stopped.push(`${id}:${kind}:${reason}`),
      end: () => {},
    },
    all,
  );
  const handshake = new RtmpServerHandshake();
  const reader = new ChunkReader((m) => session.handle(m), all);
  const push = (data: Uint8Array): void => {
    if (!handshake.done) {
      const step = handshake.push(data);
      if (step.rest !== undefined) reader.push(step.rest);
    } else {
      reader.push(data);
    }
    session.bytesReceived(reader.bytesReceived);
  };
  return { push, requests, media, stopped, reader, handshake, sent: () => sentBytes };
}
