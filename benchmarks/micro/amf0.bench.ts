/**
 * AMF0 decoding of what every RTMP session parses: the `connect` command (ffmpeg's command object)
 * and an onMetaData as encoders send it; encode for comparison.
 *
 *   node --import tsx benchmarks/micro/amf0.bench.ts [--json]
 */
import { decodeAmf0All, encodeAmf0 } from '../../media/amf0/index.js';
import { asEcmaArray } from '../../media/amf0/types.js';
import { type MicroCase, runSuite } from './harness.js';

const connectObject = {
  app: 'live',
  flashVer: 'FMLE/3.0 (compatible; FMSc/1.0)',
  swfUrl: 'rtmp://127.0.0.1:1935/live',
  tcUrl: 'rtmp://127.0.0.1:1935/live',
  type: 'nonprivate',
  fpad: false,
  capabilities: 15,
  audioCodecs: 4071,
  videoCodecs: 252,
  videoFunction: 1,
  objectEncoding: 0,
};
const connect = encodeAmf0('connect', 1, connectObject);

const metadataFields = {
  duration: 0,
  width: 1280,
  height: 720,
  videodatarate: 1953.125,
  framerate: 30,
  videocodecid: 7,
  audiodatarate: 125,
  audiosamplerate: 44100,
  audiosamplesize: 16,
  stereo: true,
  audiocodecid: 10,
  encoder: 'Lavf61.7.100',
  filesize: 0,
};
const metadata = encodeAmf0('onMetaData', asEcmaArray(metadataFields));

const cases: MicroCase[] = [
  {
    name: `decode connect command (${connect.length} B)`,
    fn: () => void decodeAmf0All(connect),
    bytesPerOp: connect.length,
  },
  {
    name: `decode onMetaData (${metadata.length} B)`,
    fn: () => void decodeAmf0All(metadata),
    bytesPerOp: metadata.length,
  },
  { name: 'encode connect command', fn: () => void encodeAmf0('connect', 1, connectObject) },
];

await runSuite('amf0', cases);
