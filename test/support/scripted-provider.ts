/**
 * A VideoProvider whose answers a test scripts: it records every call with the clock's time, and answers `poll`
 * from a queue of results (then "running"). It stands in for an upstream only where the test is about the
 * scheduler's timing and state machine; real upstreams are tested through their fakes.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { UpstreamError } from '../../src/core/errors.js';
import type { PollResult, UpstreamRef, VideoProvider } from '../../src/providers/provider.js';

export interface ScriptedProvider extends VideoProvider {
  calls: { method: 'uploadImage' | 'start' | 'poll' | 'cancel'; at: number; ref?: UpstreamRef }[];
  /** Results for the next polls, in order; an Error is thrown instead of returned. */
  pollScript: (PollResult | Error)[];
  /** Errors for the next starts, in order. */
  startScript: Error[];
  /** A `file:` URL of a fresh small MP4-like file (each read makes one: the core takes the file), for `succeeded` results. */
  readonly videoUrl: string;
  /** Resolves the next `poll` only when the returned function is called (to crash mid-attempt). */
  holdNextPoll(): () => void;
  /** Lets the next `start` create its job only when the returned function is called (a start under way). */
  holdNextStart(): () => void;
  /** How long (on the test's clock) each `uploadImage` and `start` takes. */
  delays: { uploadMs: number; startMs: number };
}

function gate(): { wait: Promise<void>; open: () => void } {
  let open = () => {};
  const wait = new Promise<void>((resolve) => {
    open = resolve;
  });
  return { wait, open };
}

const pause = (ms: number) => (ms > 0 ? new Promise((resolve) => setTimeout(resolve, ms)) : undefined);

export function scriptedProvider(options: { maxRunning?: number; name?: string } = {}): ScriptedProvider {
  const dir = mkdtempSync(join(tmpdir(), 'dvb-scripted-'));
  const video = Buffer.concat([Buffer.from([0, 0, 0, 24]), Buffer.from('ftypisom'), Buffer.alloc(64)]);
  let counter = 0;
  let videos = 0;
  let hold: Promise<void> | undefined;
  let startHold: Promise<void> | undefined;
  const provider: ScriptedProvider = {
    name: options.name ?? 'scripted',
    ...(options.maxRunning !== undefined && { maxRunning: options.maxRunning }),
    calls: [],
    pollScript: [],
    startScript: [],
    get videoUrl() {
      const file = join(dir, `video-${++videos}.mp4`);
      writeFileSync(file, video);
      return pathToFileURL(file).href;
    },
    delays: { uploadMs: 0, startMs: 0 },
    holdNextPoll() {
      const { wait, open } = gate();
      hold = wait;
      return open;
    },
    holdNextStart() {
      const { wait, open } = gate();
      startHold = wait;
      return open;
    },
    async uploadImage() {
      provider.calls.push({ method: 'uploadImage', at: Date.now() });
      await pause(provider.delays.uploadMs);
      return { uploaded: true };
    },
    async start() {
      provider.calls.push({ method: 'start', at: Date.now() });
      await pause(provider.delays.startMs);
      if (startHold) {
        const waiting = startHold;
        startHold = undefined;
        await waiting;
      }
      const error = provider.startScript.shift();
      if (error) throw error;
      counter += 1;
      return { id: `job-${counter}`, conversationId: `77${counter}`, messageId: `88${counter}` };
    },
    async poll(ref) {
      provider.calls.push({ method: 'poll', at: Date.now(), ref });
      if (hold) {
        const waiting = hold;
        hold = undefined;
        await waiting;
      }
      const next = provider.pollScript.shift() ?? { state: 'running' };
      if (next instanceof Error) throw next;
      return next;
    },
    async cancel(ref) {
      provider.calls.push({ method: 'cancel', at: Date.now(), ref });
    },
  };
  return provider;
}

export const transient = (message = 'upstream 503') => new UpstreamError(message, true);
export const permanent = (message = 'the prompt was refused') => new UpstreamError(message, false);
