/**
 * The chaos suite's users: API clients that submit through the HTTP API (text-to-video, and image-to-video after
 * an upload) and retry when the service is down, and Telegram users, one chat each, who send a captioned photo or
 * `/video <prompt>` through the fake Bot API and send it again if the bot never answered (an update lost in a kill).
 */
import { request } from 'undici';
import type { TelegramFake } from '../fakes/telegram/index.js';
import { photoMessage, textMessage } from '../fakes/telegram/updates.js';
import { sampleImage } from '../support/media-samples.js';

/** Where the service is now, and a way to wait while it is down. */
export interface ServiceHandle {
  baseUrl(): string;
  whenUp(): Promise<void>;
  apiToken: string;
}

export interface HttpOutcome {
  prompt: string;
  status: number;
  detail?: string;
  /** Submissions repeated because the connection died (the service was killed). */
  resubmits: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const MAX_TRIES = 30;

async function call(
  service: ServiceHandle,
  method: 'GET' | 'POST',
  path: string,
  body?: Buffer | string,
  extraHeaders: Record<string, string> = {},
) {
  const res = await request(`${service.baseUrl()}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${service.apiToken}`,
      'content-type': Buffer.isBuffer(body) ? 'application/octet-stream' : 'application/json',
      ...extraHeaders,
    },
    ...(body !== undefined && { body }),
    headersTimeout: 60_000,
    bodyTimeout: 60_000,
  });
  const text = await res.body.text();
  return { status: res.statusCode, json: JSON.parse(text) as Record<string, unknown> };
}

/** One API client's request; image-to-video (upload, then generate) when `withImage`. */
export async function submitHttp(service: ServiceHandle, prompt: string, withImage: boolean): Promise<HttpOutcome> {
  // Like a careful client, re-send a request whose answer was lost with the same key, so it stays one task.
  const idempotencyKey = { 'idempotency-key': `chaos-${prompt}` };
  for (let tries = 0; ; tries++) {
    await service.whenUp();
    try {
      let attachment: Record<string, unknown> | undefined;
      if (withImage) {
        const upload = await call(
          service,
          'POST',
          '/api/file/upload?file_type=2&file_name=chaos.png',
          sampleImage('png'),
        );
        if (upload.status !== 200)
          return { prompt, status: upload.status, detail: String(upload.json.detail), resubmits: tries };
        attachment = upload.json;
      }
      const body = JSON.stringify({ prompt, ...(attachment && { image_attachment: attachment }) });
      const res = await call(service, 'POST', '/api/video-gen/generate', body, idempotencyKey);
      return {
        prompt,
        status: res.status,
        ...(res.json.detail !== undefined && { detail: String(res.json.detail) }),
        resubmits: tries,
      };
    } catch (error) {
      if (tries >= MAX_TRIES) throw error;
      await sleep(300);
    }
  }
}

/** Task counts by status from `/metrics`. */
export async function taskCounts(service: ServiceHandle): Promise<Record<string, number>> {
  const res = await request(`${service.baseUrl()}/metrics`, { headersTimeout: 10_000 });
  const text = await res.body.text();
  const counts: Record<string, number> = {};
  for (const [, status, n] of text.matchAll(/video_tasks\{status="(\w+)"\} (\d+)/g)) counts[status!] = Number(n);
  return counts;
}

/** A Telegram user with their own chat; `send` pushes their request (again) into the fake. */
export class TelegramUser {
  readonly chatId: number;
  readonly prompt: string;
  sends = 0;
  readonly #fake: TelegramFake;
  readonly #photo: boolean;

  constructor(fake: TelegramFake, chatId: number, prompt: string, photo: boolean) {
    this.#fake = fake;
    this.chatId = chatId;
    this.prompt = prompt;
    this.#photo = photo;
  }

  send(): void {
    this.sends++;
    const from = { chatId: this.chatId, userId: this.chatId, languageCode: 'en' };
    this.#fake.pushUpdate(
      this.#photo
        ? photoMessage(from, this.#fake.addFile(sampleImage('jpg')), { caption: this.prompt })
        : textMessage(from, `/video ${this.prompt}`),
    );
  }

  /** True once the bot sent this chat a result: a video, or a failure or cancellation notice. */
  finished(): boolean {
    return this.#fake.sent.some(
      (c) =>
        c.errorCode === undefined &&
        Number(c.payload.chat_id) === this.chatId &&
        (c.method === 'sendVideo' ||
          (c.method === 'sendMessage' &&
            /^(❌ Task \S+ failed:|🚫 Task \S+ was cancelled)/.test(String(c.payload.text)))),
    );
  }

  /** True once the bot said anything in this chat (its "accepted" reply, or the result). */
  answered(): boolean {
    return this.#fake.sent.some(
      (c) =>
        (c.method === 'sendMessage' || c.method === 'sendVideo') &&
        c.errorCode === undefined &&
        Number(c.payload.chat_id) === this.chatId,
    );
  }
}
