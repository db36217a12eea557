/**
 * A fake Telegram Bot API on a real loopback socket, for driving grammY end to end without the internet.
 *
 * It answers `POST /bot<token>/<method>` (JSON or multipart) for the methods our bot uses, holds `getUpdates` until
 * an update is pushed (honouring `offset` and `timeout`), serves files at `GET /file/bot<token>/<file_path>`, and
 * answers errors with the Bot API envelope `{ok:false, error_code, description, parameters}` (or never answers a
 * `stalled` method, like a hung server). Every call is logged in `sent` with its payload and uploaded files, so
 * tests can count deliveries exactly.
 *
 * Webhooks as the real API has them: `setWebhook` (with `secret_token`), `deleteWebhook` (`drop_pending_updates`)
 * and `getWebhookInfo`. While a webhook is set, pushed updates are POSTed to it one at a time, in order, with the
 * secret in `X-Telegram-Bot-Api-Secret-Token`; an update answered with another status than 2xx (or not at all) is
 * sent again a moment later, and `getUpdates` is refused with 409 Conflict. Updates not yet delivered stay pending
 * and are what `getUpdates` returns after `deleteWebhook`.
 */
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type ParsedBody, readBody, type UploadedFile } from './multipart.js';

export type { UploadedFile } from './multipart.js';

/** One call the bot made. */
export interface ApiCall {
  method: string;
  payload: Record<string, unknown>;
  files: Record<string, UploadedFile>;
  /** When the fake received it (epoch ms). */
  at: number;
  /** The message the fake answered with, for send/edit methods. */
  result?: unknown;
  /** The `error_code` the fake answered with instead, for failed calls. */
  errorCode?: number;
}

/**
 * An error the fake answers a method with, `times` times (429 with `retryAfter` for flood waits). Code 0 drops
 * the connection without an answer, as a dead network would.
 */
export interface InjectedFault {
  code: number;
  description: string;
  retryAfter?: number;
  times: number;
}

export interface TelegramKnobs {
  token: string;
  bot: { id: number; username: string; first_name: string };
  /** `getFile` refuses files above this size, like the real Bot API. @defaultValue 20 MB */
  maxDownloadBytes: number;
  /** Faults by method name; each use decrements `times`. */
  faults: Record<string, InjectedFault>;
  /** Methods whose calls are held without an answer until the fake closes, as a hung server would. */
  stalled: Set<string>;
  /**
   * While set, Telegram is down: every Bot API call (getUpdates included) is answered with this error, or dropped
   * when `code` is 0 (a proxy down). Calls are still logged, with their `errorCode`.
   */
  outage?: { code: number; description: string };
}

interface FakeFile {
  file_id: string;
  file_unique_id: string;
  file_size: number;
  file_path: string;
  bytes?: Buffer;
}

const MB = 1000 * 1000;

/** `port` listens on a chosen port (a test bringing "Telegram" back where the bot already looks), else any. */
export async function startTelegramFake(knobs: Partial<TelegramKnobs> = {}, { port: wantedPort = 0 } = {}) {
  const state: TelegramKnobs = {
    token: `12345:${randomBytes(12).toString('hex')}`,
    bot: { id: 12345, username: 'doubao_test_bot', first_name: 'Doubao' },
    maxDownloadBytes: 20 * MB,
    faults: {},
    stalled: new Set(),
    ...knobs,
  };
  let unauthorized = 0;
  const stalledCalls = new Set<() => void>();
  const updates: Record<string, unknown>[] = [];
  const waiters = new Set<() => void>();
  const files = new Map<string, FakeFile>();
  const sent: ApiCall[] = [];
  const callWaiters = new Set<() => void>();
  let nextUpdateId = 1;
  let nextMessageId = 1000;
  /** getUpdates calls refused by an outage (they are not logged in `sent`). */
  let outageGetUpdates = 0;
  let webhook: { url: string; secret?: string } | undefined;
  let webhookError: { at: number; message: string } | undefined;
  /** Every POST of an update to the webhook, with the status it was answered with (0: no answer). */
  const webhookPosts: { updateId: number; status: number }[] = [];
  let pumping = false;

  const notifyCalls = () => {
    for (const wake of [...callWaiters]) wake();
  };

  const methods: Record<string, (body: ParsedBody) => unknown | Promise<unknown>> = {
    getMe: () => ({ ...state.bot, is_bot: true, can_join_groups: true, can_read_all_group_messages: false }),
    deleteWebhook: ({ payload }) => {
      webhook = undefined;
      if (payload.drop_pending_updates === true || payload.drop_pending_updates === 'true') updates.length = 0;
      return true;
    },
    setWebhook: ({ payload }) => {
      const url = String(payload.url ?? '');
      if (!url) {
        webhook = undefined; // an empty URL removes the webhook, as in the real API
        return true;
      }
      if (!/^https?:\/\//.test(url))
        throw fault(400, 'Bad Request: bad webhook: An HTTPS URL must be provided for webhook');
      const secret = payload.secret_token === undefined ? undefined : String(payload.secret_token);
      if (secret !== undefined && !/^[\w-]{1,256}$/.test(secret)) {
        throw fault(400, 'Bad Request: secret token contains unallowed characters');
      }
      webhook = { url, ...(secret !== undefined && { secret }) };
      for (const wake of [...waiters]) wake(); // a long poll held now ends in 409, as on the real API
      void pumpWebhook();
      return true;
    },
    getWebhookInfo: () => ({
      url: webhook?.url ?? '',
      has_custom_certificate: false,
      pending_update_count: updates.length,
      ...(webhookError && { last_error_date: webhookError.at, last_error_message: webhookError.message }),
    }),
    setMyCommands: () => true,
    sendChatAction: () => true,
    getUpdates: async ({ payload }) => {
      const conflict = () =>
        fault(
          409,
          "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook to delete the webhook first",
        );
      if (webhook) throw conflict();
      const answer = await longPoll(
        Number(payload.offset ?? 0),
        Number(payload.timeout ?? 0),
        Number(payload.limit ?? 100),
      );
      if (webhook) throw conflict();
      return answer;
    },
    sendMessage: ({ payload }) => message(payload, { text: payload.text }),
    editMessageText: ({ payload }) => ({
      message_id: payload.message_id,
      date: now(),
      chat: chatOf(payload),
      text: payload.text,
    }),
    editMessageReplyMarkup: ({ payload }) => ({
      message_id: payload.message_id,
      date: now(),
      chat: chatOf(payload),
      reply_markup: payload.reply_markup,
    }),
    answerCallbackQuery: () => true,
    sendVideo: ({ payload, files: uploads }) => {
      const upload = uploads.video;
      const video = upload
        ? { file_id: `video-${randomBytes(4).toString('hex')}`, file_size: upload.bytes.length }
        : { file_id: String(payload.video) };
      return message(payload, { video, caption: payload.caption });
    },
    getFile: ({ payload }) => {
      const file = files.get(String(payload.file_id));
      if (!file) throw fault(400, 'Bad Request: invalid file_id');
      if (file.file_size > state.maxDownloadBytes) throw fault(400, 'Bad Request: file is too big');
      return {
        file_id: file.file_id,
        file_unique_id: file.file_unique_id,
        file_size: file.file_size,
        file_path: file.file_path,
      };
    },
  };

  function now() {
    return Math.floor(Date.now() / 1000);
  }

  function chatOf(payload: Record<string, unknown>) {
    const id = Number(payload.chat_id);
    return { id, type: id < 0 ? 'group' : 'private' };
  }

  function message(payload: Record<string, unknown>, extra: Record<string, unknown>) {
    const reply = payload.reply_parameters as { message_id?: number } | undefined;
    return {
      message_id: nextMessageId++,
      date: now(),
      chat: chatOf(payload),
      from: { ...state.bot, is_bot: true },
      ...(reply?.message_id && {
        reply_to_message: { message_id: reply.message_id, date: now(), chat: chatOf(payload) },
      }),
      ...extra,
    };
  }

  function longPoll(offset: number, timeoutS: number, limit: number): Promise<unknown[]> {
    const unconfirmed = () => updates.filter((u) => Number(u.update_id) >= offset);
    const ready = () => unconfirmed().slice(0, Math.max(1, limit));
    if (offset > 0) updates.splice(0, updates.length, ...unconfirmed());
    return new Promise((resolve) => {
      const finish = () => {
        clearTimeout(timer);
        waiters.delete(finish);
        resolve(ready());
      };
      const timer = setTimeout(finish, timeoutS * 1000);
      if (ready().length > 0 || closed) return finish();
      waiters.add(finish);
    });
  }

  /** POSTs pending updates to the webhook, oldest first, until none is left or the webhook goes. */
  async function pumpWebhook(): Promise<void> {
    if (pumping) return;
    pumping = true;
    try {
      while (webhook && updates.length > 0 && !closed) {
        const { url, secret } = webhook;
        const update = updates[0]!;
        let status = 0;
        try {
          const answer = await fetch(url, {
            method: 'POST',
            headers: {
              'content-type': 'application/json',
              ...(secret !== undefined && { 'x-telegram-bot-api-secret-token': secret }),
            },
            body: JSON.stringify(update),
            signal: AbortSignal.timeout(60_000),
          });
          status = answer.status;
          await answer.arrayBuffer();
        } catch (error) {
          webhookError = { at: now(), message: `Connection failed: ${(error as Error).message}` };
        }
        webhookPosts.push({ updateId: Number(update.update_id), status });
        if (status >= 200 && status < 300) {
          if (updates[0] === update) updates.shift();
          continue;
        }
        if (status) webhookError = { at: now(), message: `Wrong response from the webhook: ${status}` };
        await new Promise((resolve) => setTimeout(resolve, 200)); // Telegram tries again later
      }
    } finally {
      pumping = false;
    }
  }

  function fault(code: number, description: string, retryAfter?: number) {
    return Object.assign(new Error(description), { code, retryAfter });
  }

  async function handle(req: IncomingMessage, res: ServerResponse) {
    const url = new URL(req.url ?? '/', 'http://fake');
    const fileMatch = /^\/file\/bot([^/]+)\/(.+)$/.exec(url.pathname);
    if (req.method === 'GET' && fileMatch) {
      const file = [...files.values()].find((f) => f.file_path === fileMatch[2]);
      if (fileMatch[1] !== state.token || !file?.bytes)
        return send(res, 404, { ok: false, error_code: 404, description: 'Not Found' });
      res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': file.bytes.length });
      return res.end(file.bytes);
    }
    const match = /^\/bot([^/]+)\/([A-Za-z]+)$/.exec(url.pathname);
    if (!match) return send(res, 404, { ok: false, error_code: 404, description: 'Not Found' });
    if (match[1] !== state.token) {
      unauthorized++;
      return send(res, 401, { ok: false, error_code: 401, description: 'Unauthorized' });
    }
    const method = match[2]!;
    const body = await readBody(req);
    for (const [key, value] of url.searchParams) body.payload[key] ??= value;
    const handler = methods[method];
    if (!handler) return send(res, 404, { ok: false, error_code: 404, description: 'Not Found: method not found' });
    const call: ApiCall = { method, payload: body.payload, files: body.files, at: Date.now() };
    if (method !== 'getUpdates') sent.push(call);
    if (state.stalled.has(method)) {
      notifyCalls();
      // Answered only by close(), which drops the connection.
      return new Promise<void>((resolve) => stalledCalls.add(resolve));
    }
    try {
      if (state.outage) {
        if (method === 'getUpdates') outageGetUpdates++;
        call.errorCode = state.outage.code;
        if (state.outage.code === 0) return void req.socket.destroy();
        throw fault(state.outage.code, state.outage.description);
      }
      const injected = state.faults[method];
      if (injected && injected.times > 0) {
        injected.times--;
        if (injected.code === 0) {
          call.errorCode = 0;
          return void req.socket.destroy();
        }
        throw fault(injected.code, injected.description, injected.retryAfter);
      }
      call.result = await handler(body);
      // An outage that began while a long poll was held answers it too.
      const begunMeanwhile = state.outage as TelegramKnobs['outage']; // the await above may have let one begin
      if (begunMeanwhile && method === 'getUpdates') {
        outageGetUpdates++;
        throw fault(begunMeanwhile.code || 502, begunMeanwhile.description);
      }
      send(res, 200, { ok: true, result: call.result });
    } catch (error) {
      const { code = 500, message, retryAfter } = error as Error & { code?: number; retryAfter?: number };
      call.errorCode = code;
      send(res, code, {
        ok: false,
        error_code: code,
        description: message,
        ...(retryAfter !== undefined && { parameters: { retry_after: retryAfter } }),
      });
    } finally {
      notifyCalls();
    }
  }

  function send(res: ServerResponse, status: number, body: unknown) {
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body));
  }

  let closed = false;
  const server = createServer((req, res) => {
    handle(req, res).catch((error: Error) =>
      send(res, 500, { ok: false, error_code: 500, description: error.message }),
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(wantedPort, '127.0.0.1', resolve);
  });
  const { port } = server.address() as AddressInfo;

  return {
    apiRoot: `http://127.0.0.1:${port}`,
    token: state.token,
    knobs: state,
    /** Every call the bot made except `getUpdates`, in order. */
    sent,
    /** Calls refused with 401 because they carried another token. */
    unauthorizedCalls: () => unauthorized,
    /** Starts (or with undefined, ends) an outage; long polls held at that moment are answered at once. */
    setOutage(outage: TelegramKnobs['outage']): void {
      state.outage = outage;
      for (const wake of [...waiters]) wake();
    },
    /** Every POST of an update to the webhook and the status it got (0: no answer), oldest first. */
    webhookPosts,
    /** The webhook set now, with its secret (what Telegram knows), or undefined. */
    webhook: () => webhook,
    /** How many `getUpdates` calls an outage refused. */
    refusedPolls: () => outageGetUpdates,
    /** Queues an update (its `update_id` is assigned) and wakes a held `getUpdates`. */
    pushUpdate(update: Record<string, unknown>): number {
      const update_id = nextUpdateId++;
      updates.push({ update_id, ...update });
      for (const wake of [...waiters]) wake();
      if (webhook) void pumpWebhook();
      return update_id;
    },
    /** Makes a file downloadable through getFile; `size` alone simulates a big file without its bytes. */
    addFile(content: Buffer | { size: number }, ext = 'jpg') {
      const id = randomBytes(6).toString('hex');
      const bytes = Buffer.isBuffer(content) ? content : undefined;
      const file: FakeFile = {
        file_id: `file-${id}`,
        file_unique_id: `u-${id}`,
        file_size: bytes ? bytes.length : (content as { size: number }).size,
        file_path: `photos/${id}.${ext}`,
        ...(bytes && { bytes }),
      };
      files.set(file.file_id, file);
      return { file_id: file.file_id, file_unique_id: file.file_unique_id, file_size: file.file_size };
    },
    /** Calls of one method, optionally only those to one chat. */
    calls(method: string, chatId?: number): ApiCall[] {
      return sent.filter((c) => c.method === method && (chatId === undefined || Number(c.payload.chat_id) === chatId));
    },
    /** How many calls of `method` succeeded, optionally to one chat: the exactly-once count. */
    delivered(method: string, chatId?: number): number {
      return this.calls(method, chatId).filter((c) => c.errorCode === undefined).length;
    },
    /** Resolves with the first call matching `predicate` (already made or future); rejects after `timeoutMs`. */
    waitFor(method: string, predicate: (call: ApiCall) => boolean = () => true, timeoutMs = 20_000): Promise<ApiCall> {
      return new Promise((resolve, reject) => {
        const check = () => {
          const found = sent.find((c) => c.method === method && predicate(c));
          if (!found) return false;
          clearTimeout(timer);
          callWaiters.delete(check);
          resolve(found);
          return true;
        };
        const timer = setTimeout(() => {
          callWaiters.delete(check);
          reject(new Error(`no ${method} call matched within ${timeoutMs} ms`));
        }, timeoutMs);
        if (!check()) callWaiters.add(check);
      });
    },
    async close(): Promise<void> {
      closed = true;
      for (const wake of [...waiters]) wake();
      for (const release of [...stalledCalls]) release();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

export type TelegramFake = Awaited<ReturnType<typeof startTelegramFake>>;
