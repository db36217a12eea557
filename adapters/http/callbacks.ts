/**
 * Callbacks for API clients: a generate request may give `callback_url`; when its task ends, the outbox (the same
 * rows, leases and backoff as chat deliveries, platform `http`) calls `sendCallback`, which POSTs the status route's
 * `task` object there, signed: `X-Signature-256: sha256=<hex HMAC-SHA256 of the raw body with CALLBACK_SECRET>`.
 *
 * The URL passes the SSRF guard of `image_url` when it is given (`checkCallbackUrl`) and again at every send. A 2xx
 * answer is a delivery; 408, 429, 5xx, timeouts and refused connections are tried again with backoff; any other
 * answer (a 3xx, a 4xx) is final: the delivery gives up with the answer recorded as its reason, as it does after
 * `GIVE_UP_AFTER_MS` of failures.
 */
import { createHmac } from 'node:crypto';
import type { Config } from '../../src/config.js';
import { DeliveryRefused, InvalidInput, type Task } from '../../src/core/index.js';
import { checkPublicUrl, postGuarded } from '../../src/core/safe-fetch.js';
import { toSeedTask } from './seed-task.js';

/** How long one POST may take, answer included. */
const SEND_TIMEOUT_MS = 10_000;
/** A receiver still failing this long after the task ended is given up on (a dead endpoint is not tried forever). */
export const GIVE_UP_AFTER_MS = 3 * 24 * 60 * 60 * 1000;

/** The signature header's value for a body: what a receiver recomputes with the shared secret and compares. */
export function signature(body: string, secret: string): string {
  return `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
}

/**
 * Checks a `callback_url` at submit time: a secret to sign with, http(s), a public address (unless
 * IMAGE_URL_ALLOW_PRIVATE). @throws InvalidInput with a sentence saying what to change.
 */
export async function checkCallbackUrl(url: string, config: Config): Promise<string> {
  if (!config.CALLBACK_SECRET) {
    throw new InvalidInput(
      'callback_url needs CALLBACK_SECRET to be set on the server (callbacks are signed with it, so the receiver can trust them); leave callback_url out and poll the status route instead',
    );
  }
  const checked = await checkPublicUrl(url, { allowPrivate: config.IMAGE_URL_ALLOW_PRIVATE, what: 'callback_url' });
  return checked.href;
}

/** The outbox's `result` handler of platform `http`: POSTs a final task to its callback URL. */
export function callbackSender(config: Config, now: () => number = Date.now) {
  return async (task: Task): Promise<void> => {
    const url = task.origin.reply?.callbackUrl;
    if (typeof url !== 'string') throw new DeliveryRefused('the task has no callback_url');
    const secret = config.CALLBACK_SECRET;
    if (!secret) throw new DeliveryRefused('CALLBACK_SECRET is no longer set; an unsigned callback is not sent');
    const body = JSON.stringify(toSeedTask(task, config.PUBLIC_BASE_URL));
    const headers = {
      'content-type': 'application/json',
      'user-agent': 'doubao-video-bot-callback',
      'x-signature-256': signature(body, secret),
      // The same for every try of one outcome: a receiver that sees it twice (a crash mid-send) can drop the copy.
      'x-callback-id': `${task.id}.${task.generation}`,
    };
    let status: number;
    try {
      status = await postGuarded(url, body, headers, {
        timeoutMs: SEND_TIMEOUT_MS,
        allowPrivate: config.IMAGE_URL_ALLOW_PRIVATE,
        what: 'callback_url',
      });
    } catch (error) {
      if (error instanceof InvalidInput) throw new DeliveryRefused(error.message);
      throw giveUpWhenOld(task, error as Error, now);
    }
    if (status >= 200 && status < 300) return;
    const transient = status >= 500 || status === 408 || status === 429;
    if (!transient) throw new DeliveryRefused(`the receiver answered HTTP ${status}`);
    throw giveUpWhenOld(task, new Error(`the receiver answered HTTP ${status}`), now);
  };
}

function giveUpWhenOld(task: Task, error: Error, now: () => number): Error {
  const endedAt = Date.parse(task.updatedAt);
  if (now() - endedAt < GIVE_UP_AFTER_MS) return error;
  return new DeliveryRefused(`still failing 3 days after the task ended (${error.message}); giving up`);
}
