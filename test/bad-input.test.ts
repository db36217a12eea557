/**
 * Bad input, property-based (fast-check): 1 000 generated malformed requests against the HTTP API on a real
 * listening socket — random and mistyped JSON, huge strings, broken multipart and octet streams, wrong query
 * parameters, non-image bytes with image names, path tricks in file names and URLs, private `image_url`s.
 * Every answer must be JSON: a 4xx with a `detail` sentence, or a valid 2xx when the input happened to be valid;
 * never a 5xx. Nothing may be written outside DATA_DIR/images and DATA_DIR/uploads, and the memory still alive
 * after a full collection must stay flat. Issue 13 added hostile media and clients: truncated PNGs, PNG headers
 * without pixels or with bomb-sized dimensions, every accepted image format, hostile `video_links.json` imports,
 * and slow bodies on raw sockets (answered 408 within HTTP_REQUEST_TIMEOUT_S). A summary per kind of input (count,
 * 5xx, slowest answer) is printed for docs/chaos.md.
 */
import { existsSync, readdirSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import fc from 'fast-check';
import { request } from 'undici';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { idleProvider } from './support/idle-provider.js';
import { IMAGE_TYPES, pngWithoutPixels, sampleAnimatedGif, sampleImage } from './support/media-samples.js';
import { startTestApi, type TestApi } from './support/test-api.js';
import type { TestCore } from './support/test-core.js';

interface BadRequest {
  method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  path: string;
  contentType?: string;
  body?: string | Buffer;
}

const MB = 1024 * 1024;

const hugeString = fc.nat({ max: 3 }).map((k) => 'x'.repeat([5_000, 70_000, 600_000, 1_100_000][k]!));
const oddString = fc.oneof(
  fc.string({ maxLength: 40 }),
  fc.string({ unit: 'grapheme', maxLength: 40 }),
  fc.constantFrom('', ' ', '\u0000', '\u202eRTL', '👍🏽'.repeat(30), '<script>alert(1)</script>', "' OR 1=1 --"),
  hugeString,
);
const anyValue = fc.oneof(
  oddString,
  fc.integer(),
  fc.double(),
  fc.boolean(),
  fc.constant(null),
  fc.array(fc.string({ maxLength: 5 }), { maxLength: 3 }),
  fc.dictionary(fc.string({ maxLength: 5 }), fc.string({ maxLength: 5 }), { maxKeys: 3 }),
);
const pathTrick = fc.constantFrom(
  '../../etc/passwd',
  '..\\..\\windows\\win.ini',
  '%2e%2e%2f%2e%2e%2fetc%2fpasswd',
  '/etc/shadow',
  'a/../../b.png',
  'cat.png\u0000.sh',
  '....//....//x.jpg',
  'CON.png',
  '',
  '.png',
  `${'a'.repeat(300)}.png`,
);
const privateUrl = fc.constantFrom(
  'http://127.0.0.1:1/x.png',
  'http://localhost/x.png',
  'http://[::1]/x.png',
  'http://0x7f000001/x.png',
  'http://2130706433/x.png',
  'http://10.0.0.1/x.png',
  'http://192.168.1.1/x.png',
  'http://169.254.169.254/latest/meta-data/',
  'http://[::ffff:127.0.0.1]/x.png',
  'http://0.0.0.0/x.png',
  'file:///etc/passwd',
  'ftp://127.0.0.1/x.png',
  'javascript:alert(1)',
  'gopher://127.0.0.1:25/',
  'not a url',
);
const notImage = fc.oneof(
  fc.uint8Array({ maxLength: 2_000 }).map((b) => Buffer.from(b)),
  fc.constant(Buffer.from('GIF89a but not really')),
  fc.constant(Buffer.concat([sampleImage('png').subarray(0, 24), Buffer.from('truncated')])),
  fc.constant(Buffer.from('%PDF-1.4\n%âãÏÓ')),
  fc.constant(Buffer.alloc(0)),
  // Truncated real images, PNG headers without pixel data, and headers claiming bomb-sized dimensions.
  fc.tuple(fc.constantFrom(...IMAGE_TYPES), fc.double({ min: 0.05, max: 0.95, noNaN: true })).map(([ext, cut]) => {
    const whole = sampleImage(ext, 64, 48);
    return whole.subarray(0, Math.floor(whole.length * cut));
  }),
  fc
    .tuple(fc.integer({ min: 1, max: 2_000 }), fc.integer({ min: 1, max: 2_000 }))
    .map(([w, h]) => pngWithoutPixels(w, h)),
  fc
    .tuple(fc.integer({ min: 6_400, max: 65_535 }), fc.integer({ min: 6_400, max: 65_535 }))
    .map(([w, h]) => pngWithoutPixels(w, h)),
);
/** Real images of every accepted type (and an animated GIF): these must be accepted. */
const realImage = fc.oneof(
  fc.constantFrom(...IMAGE_TYPES).map((ext) => sampleImage(ext, 64, 48)),
  fc.constant(0).map(() => sampleAnimatedGif()),
);
const contentType = fc.constantFrom(
  'application/json',
  'text/plain',
  'application/octet-stream',
  'multipart/form-data; boundary=----x',
  'multipart/form-data',
  'application/x-www-form-urlencoded',
  'image/png',
  'application/json; charset=utf-16',
  '',
);

const generate: fc.Arbitrary<BadRequest> = fc.oneof(
  fc
    .record(
      { prompt: anyValue, image_attachment: anyValue, image_url: anyValue, guest: anyValue },
      {
        requiredKeys: [],
      },
    )
    .map((body) => ({
      method: 'POST' as const,
      path: '/api/video-gen/generate',
      contentType: 'application/json',
      body: JSON.stringify(body),
    })),
  fc.record({ prompt: fc.string({ minLength: 1, maxLength: 20 }), image_url: privateUrl }).map((body) => ({
    method: 'POST' as const,
    path: '/api/video-gen/generate',
    contentType: 'application/json',
    body: JSON.stringify(body),
  })),
  fc.record({ prompt: fc.constant('a cat'), image_attachment: fc.record({ key: oddString }) }).map((body) => ({
    method: 'POST' as const,
    path: '/api/video-gen/generate',
    contentType: 'application/json',
    body: JSON.stringify(body),
  })),
  fc.tuple(contentType, fc.oneof(oddString, fc.json(), notImage)).map(([type, body]) => ({
    method: 'POST' as const,
    path: '/api/video-gen/generate',
    contentType: type,
    body,
  })),
);
const upload: fc.Arbitrary<BadRequest> = fc
  .tuple(
    fc.oneof(fc.constant('2'), oddString),
    fc.oneof(pathTrick, oddString),
    contentType,
    fc.oneof(notImage, realImage),
  )
  .map(([fileType, fileName, type, body]) => ({
    method: 'POST' as const,
    path: `/api/file/upload?file_type=${encodeURIComponent(fileType)}&file_name=${encodeURIComponent(fileName)}`,
    contentType: type,
    body,
  }));
const multipart: fc.Arbitrary<BadRequest> = fc.tuple(pathTrick, notImage).map(([name, bytes]) => ({
  method: 'POST' as const,
  path: '/api/file/upload?file_type=2&file_name=x.png',
  contentType: 'multipart/form-data; boundary=B',
  body: Buffer.concat([
    Buffer.from(
      `--B\r\ncontent-disposition: form-data; name="file"; filename="${name}"\r\ncontent-type: image/png\r\n\r\n`,
    ),
    bytes,
  ]),
}));
const queries: fc.Arbitrary<BadRequest> = fc
  .tuple(
    fc.constantFrom(
      '/api/video-gen/status',
      '/api/video-gen/list',
      '/api/video/get_url',
      '/api/video/task_status',
      '/api/video/all_tasks',
    ),
    fc.array(
      fc.tuple(
        fc.constantFrom('conversation_id', 'message_id', 'status', 'limit', 'offset', 'timeout', 'x'),
        fc.oneof(oddString, fc.integer().map(String), fc.constantFrom('-1', '1e309', 'NaN', '99999999999999999999')),
      ),
      { maxLength: 5 },
    ),
  )
  .map(([path, params]) => ({
    method: 'GET' as const,
    path: `${path}?${params.map(([k, v]) => `${k}=${encodeURIComponent(v.slice(0, 3_000))}`).join('&')}`,
  }));
const oddPaths: fc.Arbitrary<BadRequest> = fc
  .tuple(
    fc.constantFrom('GET', 'POST', 'PUT', 'DELETE') as fc.Arbitrary<BadRequest['method']>,
    fc.oneof(
      pathTrick.map((p) => `/videos/${p}`),
      fc.constantFrom(
        '/videos/..%2f..%2fetc%2fpasswd',
        '/videos/%00.mp4',
        '/api/video-gen/../../x',
        '/api//file//upload',
      ),
      fc.string({ maxLength: 30 }).map((s) => `/api/${encodeURIComponent(s)}`),
    ),
  )
  .map(([method, path]) => ({ method, path }));

const hostileImport: fc.Arbitrary<BadRequest> = fc
  .dictionary(
    fc.oneof(oddString, pathTrick),
    fc.record(
      {
        conversation_id: fc.oneof(pathTrick, oddString, fc.nat().map(String)),
        message_id: fc.oneof(pathTrick, fc.nat().map(String)),
        status: fc.oneof(fc.constantFrom('pending', 'processing', 'completed', 'failed', 'cancelled'), oddString),
        video_urls: fc.oneof(fc.array(privateUrl, { maxLength: 3 }), anyValue),
        retry_count: anyValue,
        max_retries: anyValue,
        error: anyValue,
      },
      { requiredKeys: [] },
    ),
    { maxKeys: 4 },
  )
  .map((file) => ({
    method: 'POST' as const,
    path: '/api/video-gen/import',
    contentType: 'application/json',
    body: JSON.stringify(file),
  }));

const badRequest = fc.oneof(generate, upload, multipart, queries, oddPaths, hostileImport);

/** Per kind of input: requests sent, 5xx answers, and the slowest answer — the table in docs/chaos.md. */
const stats = new Map<string, { sent: number; fivexx: number; slowestMs: number }>();
function record(req: BadRequest, status: number, ms: number): void {
  const kind = `${req.method} ${req.path
    .split('?')[0]!
    .replace(/^\/videos\/.*/, '/videos/…')
    .replace(/^\/api\/(?!file|video).*/, '/api/…')}`;
  const entry = stats.get(kind) ?? { sent: 0, fivexx: 0, slowestMs: 0 };
  entry.sent += 1;
  if (status >= 500) entry.fivexx += 1;
  entry.slowestMs = Math.max(entry.slowestMs, ms);
  stats.set(kind, entry);
}

let api: TestApi;
let core: TestCore;
let base: string;
beforeAll(async () => {
  api = await startTestApi({ provider: () => idleProvider(), env: { HTTP_REQUEST_TIMEOUT_S: '2' } });
  ({ core, base } = api);
});
afterAll(async () => {
  const rows = [...stats].sort(([a], [b]) => a.localeCompare(b));
  console.log(rows.map(([kind, s]) => `| ${kind} | ${s.sent} | ${s.fivexx} | ${s.slowestMs} ms |`).join('\n'));
  await api.close();
});

async function send(req: BadRequest) {
  const started = Date.now();
  const res = await request(`${base}${req.path}`, {
    method: req.method,
    headers: req.contentType ? { 'content-type': req.contentType } : {},
    ...(req.body !== undefined && req.method !== 'GET' && { body: req.body }),
  });
  const text = await res.body.text();
  record(req, res.statusCode, Date.now() - started);
  return { status: res.statusCode, type: String(res.headers['content-type'] ?? ''), text };
}

/** Memory a leak would keep: the live JS heap and the buffers outside it. */
function liveBytes(): number {
  const { heapUsed, external } = process.memoryUsage();
  return heapUsed + external;
}

/** V8's own full collection (the test process is not started with --expose-gc, so the flag is set here). */
function collectGarbage(): void {
  setFlagsFromString('--expose-gc');
  (runInNewContext('gc') as () => void)();
}

function checkAnswer(req: BadRequest, res: Awaited<ReturnType<typeof send>>): void {
  const where = `${req.method} ${req.path.slice(0, 120)} → ${res.status} ${res.text.slice(0, 200)}`;
  expect(res.status, where).toBeLessThan(500);
  expect(res.type, where).toMatch(/^application\/json/);
  const body = JSON.parse(res.text) as Record<string, unknown>;
  if (res.status >= 400) {
    expect(typeof body.detail, where).toBe('string');
    expect(String(body.detail).trim().length, where).toBeGreaterThan(3);
    expect(String(body.detail), where).not.toMatch(/\[object |\n\s+at |internal error/);
  } else if (req.path.startsWith('/api/file/upload')) {
    expect(String(body.name), where).not.toMatch(/[/\\]|^\.\.?$/);
  }
}

it('answers 1 000 malformed requests with a JSON detail and a 4xx (or a valid 2xx), never a 5xx, live memory flat', async () => {
  await fc.assert(
    fc.asyncProperty(badRequest, async (req) => checkAnswer(req, await send(req))),
    { numRuns: 1_000 },
  );
  // What a leak leaves is memory still alive after a full collection: the JS heap and the buffers it holds. RSS is
  // not that measure — it keeps V8's reserved pages and the allocator's arenas at their high-water mark (measured
  // here: +70 MB of RSS over 1 000 requests while the live heap grew 2.5 MB) — so it is logged, not asserted.
  collectGarbage();
  const before = liveBytes();
  const rssBefore = process.memoryUsage.rss();
  await fc.assert(
    fc.asyncProperty(badRequest, async (req) => checkAnswer(req, await send(req))),
    { numRuns: 1_000 },
  );
  collectGarbage();
  const growth = liveBytes() - before;
  console.log(
    `1 000 malformed requests: live memory ${(growth / MB).toFixed(1)} MB, RSS ${((process.memoryUsage.rss() - rssBefore) / MB).toFixed(1)} MB`,
  );
  expect(growth, `live memory grew by ${(growth / MB).toFixed(1)} MB`).toBeLessThan(16 * MB);

  const dataEntries = readdirSync(core.dataDir).sort();
  expect(
    dataEntries.every((e) => /^(images|uploads|videos|local|tasks\.db(-wal|-shm|\.lock(-journal)?)?)$/.test(e)),
    dataEntries.join(),
  ).toBe(true);
  const images = [...readdirSync(join(core.dataDir, 'images')), ...readdirSync(join(core.dataDir, 'uploads'))];
  expect(
    images.every((f) => /^[\w-]+\.(png|jpe?g|webp|gif|bmp)$/.test(f)),
    images.join(),
  ).toBe(true);
  expect(existsSync(join(core.dataDir, '..', 'etc'))).toBe(false);
}, 120_000);

it('answers a request whose URL is too large for the HTTP parser with a JSON detail (431)', async () => {
  const res = await send({ method: 'GET', path: `/api/video-gen/list?x=${'a'.repeat(100_000)}` });
  expect(res.status).toBe(431);
  expect(JSON.parse(res.text)).toEqual({ detail: 'the request URL or headers are too large' });
});

it('refuses a limit or offset SQLite cannot take (Infinity, beyond 2^53) with 400, not a 500', async () => {
  for (const query of ['limit=1e309', 'limit=-1e309', 'offset=1e309', 'offset=1e20', 'offset=99999999999999999999']) {
    const res = await send({ method: 'GET', path: `/api/video-gen/list?${query}` });
    expect(res.status, query).toBe(400);
    expect(JSON.parse(res.text).detail, query).toMatch(/^(limit|offset) must be a whole number from 0 to/);
  }
  const fine = await send({ method: 'GET', path: '/api/video-gen/list?limit=1e3&offset=9007199254740991' });
  expect(fine.status).toBe(200);
});

it('names an upload called "." or ".." after the image, never a dot file', async () => {
  const expected: [string, string][] = [
    ['.', 'image.png'],
    ['..', 'image.png'],
    ['...png', 'png.png'],
  ];
  for (const [fileName, stored] of expected) {
    const res = await send({
      method: 'POST',
      path: `/api/file/upload?file_type=2&file_name=${encodeURIComponent(fileName)}`,
      contentType: 'application/octet-stream',
      body: sampleImage('png'),
    });
    expect(res.status).toBe(200);
    expect(JSON.parse(res.text).name, fileName).toBe(stored);
  }
});

/** Sends a request head announcing `declared` body bytes, then `sent` of them, then silence; resolves on close. */
function slowBody(path: string, declared: number, sent: number): Promise<{ text: string; ms: number }> {
  const { port } = new URL(base);
  const socket = connect(Number(port), '127.0.0.1');
  const started = Date.now();
  let text = '';
  socket.on('data', (chunk) => {
    text += String(chunk);
  });
  socket.on('error', () => {});
  socket.write(
    `POST ${path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${declared}\r\n\r\n${'x'.repeat(sent)}`,
  );
  return new Promise((resolve) => socket.on('close', () => resolve({ text, ms: Date.now() - started })));
}

it('cuts off slow bodies (announced, partly sent, then silence) with a 408 within HTTP_REQUEST_TIMEOUT_S', async () => {
  const slow = fc.record({
    path: fc.constantFrom('/api/video-gen/generate', '/api/file/upload?file_type=2', '/api/video-gen/import'),
    declared: fc.integer({ min: 2, max: 1_000_000 }),
    fraction: fc.double({ min: 0, max: 0.99, noNaN: true }),
  });
  await fc.assert(
    fc.asyncProperty(fc.array(slow, { minLength: 10, maxLength: 10 }), async (clients) => {
      const results = await Promise.all(
        clients.map(async (c) => {
          const sent = Math.min(Math.floor(c.declared * c.fraction), 64 * 1024);
          const result = await slowBody(c.path, c.declared, sent);
          const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(result.text)?.[1] ?? 0);
          record({ method: 'POST', path: `${c.path.split('?')[0]} (slow body)` }, status, result.ms);
          return { ...result, status };
        }),
      );
      for (const r of results) {
        expect([408, 413], r.text.slice(0, 80)).toContain(r.status);
        expect(r.ms).toBeLessThan(8_000);
      }
    }),
    { numRuns: 3 },
  );
}, 60_000);
