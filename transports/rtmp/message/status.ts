import type { Amf0Object } from '../../../media/amf0/types.js';
import type { RtmpMessage } from '../types.js';
import { commandMessage } from './command-message.js';

/** NetStream/NetConnection status codes this stack sends or understands (7.2.2). */
export const STATUS = {
  connectSuccess: 'NetConnection.Connect.Success',
  connectRejected: 'NetConnection.Connect.Rejected',
  callFailed: 'NetConnection.Call.Failed',
  publishStart: 'NetStream.Publish.Start',
  publishBadName: 'NetStream.Publish.BadName',
  publishDenied: 'NetStream.Publish.Denied',
  unpublishSuccess: 'NetStream.Unpublish.Success',
  playReset: 'NetStream.Play.Reset',
  playStart: 'NetStream.Play.Start',
  playStop: 'NetStream.Play.Stop',
  playFailed: 'NetStream.Play.Failed',
  playStreamNotFound: 'NetStream.Play.StreamNotFound',
  playUnpublishNotify: 'NetStream.Play.UnpublishNotify',
  playPublishNotify: 'NetStream.Play.PublishNotify',
  dataStart: 'NetStream.Data.Start',
} as const;

export function statusInfo(
  level: 'status' | 'error' | 'warning',
  code: string,
  description: string,
  extra?: Amf0Object,
): Amf0Object {
  return { level, code, description, ...extra };
}

/** `onStatus(0, null, {level, code, description})` on a message stream. */
export function onStatusMessage(
  streamId: number,
  level: 'status' | 'error' | 'warning',
  code: string,
  description: string,
  extra?: Amf0Object,
): RtmpMessage {
  return commandMessage(streamId, 'onStatus', 0, null, statusInfo(level, code, description, extra));
}
