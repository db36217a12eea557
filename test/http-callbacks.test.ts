/**
 * `callback_url` end to end over real sockets: a local receiver verifies the HMAC signature exactly as the README's
 * snippet does, fails the first tries (503), and must see exactly one accepted POST, carrying the status route's
 * `task`, also when the service restarts between two tries. A permanent answer (410) gives up with the reason kept;
 * a URL that became refused (private, once IMAGE_URL_ALLOW_PRIVATE is off) is checked again at send time.
 */
import { spawn } from 'node:child_process';
import { createHmac, timingSafeEqual } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request } from 'undici';
import { afterEach, describe, expect, it } from 'vitest';
import { callbackSender, GIVE_UP_AFTER_MS } from '../adapters/http/callbacks.js';
import { loadConfig } from '../src/config.js';
import { DeliveryRefused } from '../src/core/index.js';
import { startTestApi, type TestApi } from './support/test-api.js';
import { waitFor } from './support/test-core.js';

const SECRET = 'callback-test-secret-0123456789';

/** The README's verification snippet: HMAC-SHA256 of the raw body, compared in constant time. */
function verified(rawBody: Buffer, header: string | undefined, secret: string): boolean {
  const expected = Buffer.from(`sha256=${createHmac('sha256', secret).update(rawBody).digest('hex')}`);
  const given = Buffer.from(header ?? '');
  return given.length === expected.length && timingSafeEqual(given, expected);
}

interface Received {
  status: number;
  body: Record<string, unknown>;
  headers: IncomingMessage['headers'];
}

/** A receiver answering each POST with `answer()`'s status, after checking the signature (401 when it is wrong). */
async function receiver(answer: () => number) {
  const seen: Received[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const raw = Buffer.concat(chunks);
      const status = verified(raw, req.headers['x-signature-256'] as string | undefined, SECRET) ? answer() : 401;
      seen.push({ status, body: JSON.parse(raw.toString('utf8')), headers: req.headers });
      res.writeHead(status).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks/video?src=test`;
  return { url, seen, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

const ENV = { CALLBACK_SECRET: SECRET, IMAGE_URL_ALLOW_PRIVATE: '1', OUTBOX_RETRY_BASE_S: '0.2' };
const apis: TestApi[] = [];
const closers: (() => Promise<void>)[] = [];
let dataDir: string | undefined;
afterEach(async () => {
  for (const api of apis.splice(0)) await api.close();
  for (const close of closers.splice(0)) await close();
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  dataDir = undefined;
});

async function start(env: Record<string, string> = ENV) {
  dataDir ??= mkdtempSync(join(tmpdir(), 'dvb-callbacks-'));
  const api = await startTestApi({ env, dataDir, keepData: true });
  apis.push(api);
  return api;
}

async function generate(api: TestApi, body: Record<string, unknown>) {
  const res = await request(`${api.base}/api/video-gen/generate`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  return { status: res.statusCode, json: JSON.parse(await res.body.text()) };
}

async function statusTask(api: TestApi, ids: { conversation_id: string; message_id: string }) {
  const res = await request(
    `${api.base}/api/video-gen/status?conversation_id=${ids.conversation_id}&message_id=${ids.message_id}`,
  );
  return JSON.parse(await res.body.text()).task;
}

describe('callback_url', { timeout: 90_000 }, () => {
  it('POSTs the signed task once it ends, retrying 503s with backoff, across a restart, exactly one success', async () => {
    let restarted = false;
    const hook = await receiver(() => (restarted ? 200 : 503));
    closers.push(hook.close);
    let api = await start();
    const made = await generate(api, { prompt: 'a tram in the snow', callback_url: hook.url });
    expect(made.status).toBe(200);
    const ids = { conversation_id: made.json.conversation_id, message_id: made.json.message_id };

    // Two refused tries, then the service goes down with the delivery still owed.
    await waitFor(
      () => hook.seen.length,
      (n) => n >= 2,
      60_000,
    );
    expect(hook.seen.length).toBeGreaterThanOrEqual(2);
    await api.close();
    apis.length = 0;
    const triesBefore = hook.seen.length;
    restarted = true;

    api = await start();
    await waitFor(
      () => hook.seen.filter((r) => r.status === 200).length,
      (n) => n >= 1,
      30_000,
    );
    await new Promise((r) => setTimeout(r, 1_000)); // time for a duplicate, if there were one
    const accepted = hook.seen.filter((r) => r.status === 200);
    expect(accepted).toHaveLength(1);
    expect(hook.seen).toHaveLength(triesBefore + 1);
    expect(hook.seen.every((r) => r.status !== 401)).toBe(true); // every try was signed right

    const task = await statusTask(api, ids);
    expect(task.status).toBe('completed');
    expect(accepted[0]!.body).toEqual(task);
    const { headers } = accepted[0]!;
    expect(headers['content-type']).toBe('application/json');
    const stored = (await api.core.store.findBySeedIds(ids.conversation_id, ids.message_id))!;
    expect(headers['x-callback-id']).toBe(`${stored.id}.0`);
    expect(new Set(hook.seen.map((r) => r.headers['x-callback-id']))).toEqual(new Set([`${stored.id}.0`]));

    const [delivery] = await api.core.store.deliveries({ taskId: stored.id });
    expect(delivery).toMatchObject({
      platform: 'http',
      state: 'sent',
      tries: triesBefore,
      lastError: expect.stringMatching(/HTTP 503/),
    });
    expect(stored.deliveredAt).not.toBeNull();
  });

  it('tells a cancel, then the end of the retried run, each once, with the run in X-Callback-Id', async () => {
    const hook = await receiver(() => 200);
    closers.push(hook.close);
    const api = await start({ ...ENV, LOCAL_RENDER_S: '3' });
    const made = await generate(api, { prompt: 'a sailboat at noon', callback_url: hook.url });
    const ids = { conversation_id: made.json.conversation_id, message_id: made.json.message_id };
    const control = async (route: string) => {
      const res = await request(`${api.base}/api/video-gen/${route}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(ids),
      });
      expect(res.statusCode).toBe(200);
      await res.body.dump();
    };
    await control('cancel');
    await waitFor(
      () => hook.seen.length,
      (n) => n >= 1,
      30_000,
    );
    expect(hook.seen[0]!.body).toMatchObject({ ...ids, status: 'cancelled' });
    await control('retry');
    await waitFor(
      () => hook.seen.length,
      (n) => n >= 2,
      60_000,
    );
    await new Promise((r) => setTimeout(r, 600));
    const id = (await api.core.store.findBySeedIds(ids.conversation_id, ids.message_id))!.id;
    expect(hook.seen.map((r) => [r.body.status, r.headers['x-callback-id']])).toEqual([
      ['cancelled', `${id}.0`],
      ['completed', `${id}.1`],
    ]);
    expect(hook.seen[1]!.body).toEqual(await statusTask(api, ids));
  });

  it("does not hurry a failing receiver's retries when another receiver answers (no shared outage)", async () => {
    const failing = await receiver(() => 503);
    const healthy = await receiver(() => 200);
    closers.push(failing.close, healthy.close);
    const api = await start({ ...ENV, OUTBOX_RETRY_BASE_S: '60' });
    for (const n of [1, 2, 3]) await generate(api, { prompt: `failing receiver ${n}`, callback_url: failing.url });
    await waitFor(
      () => failing.seen.length,
      (n) => n >= 3,
      60_000,
    );
    expect(failing.seen).toHaveLength(3); // three failures in a row on the http lane
    await generate(api, { prompt: 'healthy receiver', callback_url: healthy.url });
    await waitFor(
      () => healthy.seen.length,
      (n) => n >= 1,
      60_000,
    );
    await new Promise((r) => setTimeout(r, 1_500));
    expect(healthy.seen).toHaveLength(1);
    expect(failing.seen).toHaveLength(3); // their next tries stay 60 s away
  });

  it('gives up on a permanent answer (410), with the answer kept as the reason, after one POST', async () => {
    const hook = await receiver(() => 410);
    closers.push(hook.close);
    const api = await start();
    const made = await generate(api, { prompt: 'a fox in tall grass', callback_url: hook.url });
    const stored = async () => (await api.core.store.findBySeedIds(made.json.conversation_id, made.json.message_id))!;
    const rows = await waitFor(
      async () => api.core.store.deliveries({ taskId: (await stored()).id }),
      (r) => r[0]?.state === 'given_up',
      60_000,
    );
    expect(rows).toEqual([
      expect.objectContaining({ state: 'given_up', givenUpReason: 'the receiver answered HTTP 410', tries: 1 }),
    ]);
    await new Promise((r) => setTimeout(r, 600));
    expect(hook.seen).toHaveLength(1);
  });

  it('checks the URL again at send time: a private address no longer allowed after a restart is given up', async () => {
    const hook = await receiver(() => 503);
    closers.push(hook.close);
    let api = await start();
    const made = await generate(api, { prompt: 'rain on a window', callback_url: hook.url });
    await waitFor(
      () => hook.seen.length,
      (n) => n >= 1,
      60_000,
    );
    await api.close();
    apis.length = 0;
    const seenBefore = hook.seen.length;

    api = await start({ ...ENV, IMAGE_URL_ALLOW_PRIVATE: '0' });
    const id = (await api.core.store.findBySeedIds(made.json.conversation_id, made.json.message_id))!.id;
    const rows = await waitFor(
      () => api.core.store.deliveries({ taskId: id }),
      (r) => r[0]?.state === 'given_up',
      30_000,
    );
    expect(rows[0]).toMatchObject({
      state: 'given_up',
      givenUpReason: 'callback_url points to a private or local address, which is not allowed',
    });
    expect(hook.seen).toHaveLength(seenBefore);
  });

  it('refuses at submit time, with a sentence, a URL that is bad or private, and any URL without CALLBACK_SECRET', async () => {
    const api = await start({ OUTBOX_RETRY_BASE_S: '0.2' });
    const noSecret = await generate(api, { prompt: 'x', callback_url: 'https://example.com/hook' });
    expect(noSecret.status).toBe(400);
    expect(noSecret.json.detail).toMatch(/callback_url needs CALLBACK_SECRET to be set on the server/);
    await api.close();
    apis.length = 0;

    const strict = await start({ CALLBACK_SECRET: SECRET });
    const cases: [string, RegExp][] = [
      ['http://127.0.0.1:9/hook', /callback_url points to a private or local address/],
      ['http://[::1]/hook', /callback_url points to a private or local address/],
      ['http://localhost/hook', /callback_url points to a private or local address/],
      ['http://10.1.2.3/hook', /callback_url points to a private or local address/],
      ['ftp://example.com/hook', /callback_url must be an http\(s\) URL/],
      ['not a url', /callback_url is not a valid URL/],
      ['', /callback_url is not a valid URL/],
    ];
    for (const [url, detail] of cases) {
      const res = await generate(strict, { prompt: 'x', callback_url: url });
      expect({ url, status: res.status, detail: res.json.detail }).toEqual({
        url,
        status: 400,
        detail: expect.stringMatching(detail),
      });
    }
    expect((await strict.core.store.list({})).total).toBe(0);
  });

  it("delivers to the README's Node verification snippet, run as written; it refuses a forged signature", async () => {
    const readme = readFileSync(join(import.meta.dirname, '..', 'README.md'), 'utf8');
    const snippet = /Checking the\s+signature in Node[^`]*```js\n([\s\S]*?)```/.exec(readme)?.[1];
    expect(snippet).toContain('timingSafeEqual');
    dataDir ??= mkdtempSync(join(tmpdir(), 'dvb-callbacks-'));
    const file = join(dataDir, 'receiver.mjs');
    writeFileSync(file, snippet!.replace(/^ {2}/gm, ''));
    const free = createServer();
    await new Promise<void>((resolve) => free.listen(0, '127.0.0.1', resolve));
    const port = (free.address() as AddressInfo).port;
    await new Promise((resolve) => free.close(resolve));
    const child = spawn(process.execPath, [file], {
      env: { ...process.env, PORT: String(port), CALLBACK_SECRET: SECRET },
    });
    closers.push(async () => {
      child.kill();
    });
    let out = '';
    child.stdout.on('data', (c: Buffer) => {
      out += c.toString();
    });
    const url = `http://127.0.0.1:${port}/`;
    // Wait until the snippet listens, then check that it refuses a forged signature.
    let refused = 0;
    for (let i = 0; i < 100 && !refused; i++) {
      const res = await request(url, { method: 'POST', body: '{}', headers: { 'x-signature-256': 'sha256=00' } }).catch(
        () => undefined,
      );
      if (res) {
        refused = res.statusCode;
        await res.body.dump();
      } else await new Promise((r) => setTimeout(r, 100));
    }
    expect(refused).toBe(401);

    const api = await start();
    const made = await generate(api, { prompt: 'a snippet-checked video', callback_url: url });
    const id = (await api.core.store.findBySeedIds(made.json.conversation_id, made.json.message_id))!.id;
    const rows = await waitFor(
      () => api.core.store.deliveries({ taskId: id }),
      (r) => r[0]?.state === 'sent',
      60_000,
    );
    expect(rows[0]).toMatchObject({ state: 'sent', tries: 0 });
    expect(out).toContain(`${made.json.conversation_id} ${made.json.message_id} completed http`);
  });

  it('retries a failing receiver for three days after the task ended, then gives up saying so', async () => {
    const hook = await receiver(() => 503);
    closers.push(hook.close);
    const api = await start();
    const made = await generate(api, { prompt: 'an old outcome', callback_url: 'http://unused.invalid/' });
    const task = (await api.core.store.findBySeedIds(made.json.conversation_id, made.json.message_id))!;
    const at = (ms: number) => () => Date.parse(task.updatedAt) + ms;
    const aimed = { ...task, origin: { ...task.origin, reply: { callbackUrl: hook.url } } };
    const young = await callbackSender(api.core.config, at(GIVE_UP_AFTER_MS - 60_000))(aimed).catch((e) => e);
    expect(young).not.toBeInstanceOf(DeliveryRefused);
    expect(young.message).toBe('the receiver answered HTTP 503');
    const old = await callbackSender(api.core.config, at(GIVE_UP_AFTER_MS + 1))(aimed).catch((e) => e);
    expect(old).toBeInstanceOf(DeliveryRefused);
    expect(old.message).toBe('still failing 3 days after the task ended (the receiver answered HTTP 503); giving up');
    expect(hook.seen).toHaveLength(2);
  });

  it('refuses a CALLBACK_SECRET shorter than 16 characters at start-up', () => {
    expect(() => loadConfig({ CALLBACK_SECRET: 'short' })).toThrow(/^Invalid CALLBACK_SECRET: must be at least 16/);
  });
});
