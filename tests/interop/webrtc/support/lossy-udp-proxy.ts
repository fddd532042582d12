/**
 * A one-client UDP relay on loopback that drops chosen server→client datagrams BEFORE the
 * viewer's SRTP sees them (dropping after decryption would make libsrtp reject the
 * retransmission as a replay). The server announces the proxy's port as its candidate.
 */
import { createSocket, type RemoteInfo, type Socket } from 'node:dgram';

export interface LossyProxy {
  port: number;
  dropped: number;
  close(): Promise<void>;
}

export async function startLossyProxy(
  serverPort: number,
  drop: (len: number, index: number) => boolean,
): Promise<LossyProxy> {
  const sock: Socket = createSocket('udp4');
  let client: RemoteInfo | undefined;
  let fromServer = 0;
  const state = { dropped: 0 };
  sock.on('message', (msg, rinfo) => {
    if (rinfo.port === serverPort) {
      if (!client) return;
      if (drop(msg.length, fromServer++)) {
        state.dropped++;
        return;
      }
      sock.send(msg, client.port, client.address);
    } else {
      client = rinfo;
      sock.send(msg, serverPort, '127.0.0.1');
    }
  });
  await new Promise<void>((r) => sock.bind(0, '127.0.0.1', () => r()));
  return {
    port: sock.address().port,
    get dropped() {
      return state.dropped;
    },
    close: () => new Promise<void>((r) => sock.close(() => r())),
  };
}
