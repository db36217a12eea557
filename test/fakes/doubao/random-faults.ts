/**
 * The fake Doubao's random-fault knob: with probability `rate`, a call to an upstream API path (upload, ImageX,
 * completion in either dialect, the message list, play info, the chat page, the video file) fails in one of the
 * ways the real service fails:
 * a 5xx, a 429, a 200 whose body is not JSON, a stalled answer (a timeout for the client), and on the completion
 * stream also the 2005 rate-limit event, a truncated SSE stream and a malformed event. The chaos suite uses it.
 */
import { randomInt } from 'node:crypto';
import type { CompletionFault } from './index.js';

/** What the fake does to one call the dice picked. */
export type RandomFault =
  | { kind: 'http'; status: number; body?: string }
  | { kind: 'stall' }
  | { kind: 'stream'; fault: CompletionFault };

const FAULTABLE = [
  '/alice/resource/prepare_upload',
  '/upload/v1/',
  '/samantha/chat/completion',
  '/chat/completion',
  '/im/chain/single',
  '/samantha/media/get_play_info',
  '/samantha/video/get_play_info',
  '/chat/',
  '/douyinvod/',
  '/video/tos/',
];

const HTTP_FAULTS: RandomFault[] = [
  { kind: 'http', status: 500, body: '{"code":-1,"message":"internal error"}' },
  { kind: 'http', status: 502, body: '<html>bad gateway</html>' },
  { kind: 'http', status: 429, body: '{"code":-1,"message":"too many requests"}' },
  { kind: 'http', status: 200, body: '{"code":0,"data":{"garbage' },
  { kind: 'stall' },
];

const STREAM_FAULTS: RandomFault[] = (
  ['rate-limit-2005', 'truncated-before-start', 'truncated-after-start', 'malformed-event'] as const
).map((fault) => ({ kind: 'stream', fault }));

/** Rolls the dice for one call: a fault for `path` with probability `rate`, else undefined. */
export function pickRandomFault(path: string, isImageX: boolean, rate: number): RandomFault | undefined {
  if (rate <= 0 || !(isImageX || FAULTABLE.some((p) => path.startsWith(p)))) return undefined;
  if (Math.random() >= rate) return undefined;
  const completion = path === '/samantha/chat/completion' || path === '/chat/completion';
  const choices = completion ? [...HTTP_FAULTS, ...STREAM_FAULTS] : HTTP_FAULTS;
  return choices[randomInt(choices.length)];
}
