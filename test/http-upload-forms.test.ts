/**
 * The upload route's two ways in, over a real socket: raw bytes (the seed's) and a multipart form (curl -F, undici's
 * FormData), both held to the same size limit and the same image checks; hostile forms (many parts, no file, a huge
 * field, two files, a non-image, a truncated form) and wrong content types get a 4xx with a sentence saying what to
 * send, and nothing is kept.
 */
import { execFile } from 'node:child_process';
import { readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { FormData, request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SEND_JSON } from '../adapters/http/error-reply.js';
import { UPLOAD_HOW } from '../adapters/http/file-routes.js';
import { sampleImage } from './support/media-samples.js';
import { startTestApi, type TestApi } from './support/test-api.js';

const LIMIT = 64 * 1024;
let api: TestApi;
beforeAll(async () => {
  api = await startTestApi({ env: { MAX_IMAGE_BYTES: String(LIMIT) } });
});
afterAll(() => api.close());

async function post(path: string, body: Buffer | string | FormData, contentType?: string) {
  const res = await request(`${api.base}${path}`, {
    method: 'POST',
    headers: contentType === undefined ? {} : { 'content-type': contentType },
    body,
  });
  return { status: res.statusCode, json: JSON.parse(await res.body.text()) };
}

/** A multipart body written by hand, so each hostile shape is exactly what is sent. */
function form(parts: { name: string; fileName?: string; type?: string; data: Buffer | string }[], end = true) {
  const chunks = parts.flatMap((p) => [
    Buffer.from(
      `--XBOUNDARY\r\ncontent-disposition: form-data; name="${p.name}"${p.fileName ? `; filename="${p.fileName}"` : ''}\r\n` +
        `${p.type ? `content-type: ${p.type}\r\n` : ''}\r\n`,
    ),
    Buffer.from(p.data),
    Buffer.from('\r\n'),
  ]);
  return Buffer.concat([...chunks, Buffer.from(end ? '--XBOUNDARY--\r\n' : '')]);
}
const FORM = 'multipart/form-data; boundary=XBOUNDARY';
const uploads = () => readdirSync(join(api.core.dataDir, 'uploads')).length;

describe('multipart uploads', () => {
  it('accepts `curl -F file=@cat.png` and keeps the form file name', async () => {
    const file = join(api.core.dataDir, 'cat.png');
    writeFileSync(file, sampleImage('png', 64, 48));
    const { stdout } = await promisify(execFile)('curl', ['-sS', '-F', `file=@${file}`, `${api.base}/api/file/upload`]);
    const answer = JSON.parse(stdout);
    expect(answer).toMatchObject({ name: 'cat.png', type: 'vlm_image', option: { width: 64, height: 48 } });
    // The attachment works for generate like a raw upload's.
    const made = await post(
      '/api/video-gen/generate',
      JSON.stringify({ prompt: 'a cat', image_attachment: answer }),
      'application/json',
    );
    expect(made.status).toBe(200);
  });

  it("accepts undici's FormData, with file_name in the query taking precedence", async () => {
    const body = new FormData();
    body.set('file', new Blob([sampleImage('jpg', 40, 30)], { type: 'image/jpeg' }), 'ignored.jpg');
    const res = await post('/api/file/upload?file_name=mine.jpg', body);
    expect(res.status).toBe(200);
    expect(res.json).toMatchObject({ name: 'mine.jpg', option: { width: 40, height: 30 } });
  });

  it('refuses hostile forms with a 4xx sentence saying what to send, and keeps nothing', async () => {
    const before = uploads();
    const image = sampleImage('png', 32, 32);
    const big = Buffer.concat([image, Buffer.alloc(LIMIT)]);
    const cases: [string, Buffer, number, RegExp][] = [
      ['no file part', form([{ name: 'note', data: 'hello' }]), 400, /the form has no file in it/],
      ['an empty form', Buffer.from('--XBOUNDARY--\r\n'), 400, /the form has no file in it/],
      [
        'a huge field',
        form([
          { name: 'note', data: 'x'.repeat(100_000) },
          { name: 'file', fileName: 'a.png', data: image },
        ]),
        413,
        /the form field "note" is longer than 1 KiB/,
      ],
      [
        'many parts',
        form(Array.from({ length: 200 }, (_, i) => ({ name: `f${i}`, data: 'x' }))),
        413,
        /too many (parts|fields)/,
      ],
      [
        'two files',
        form([
          { name: 'file', fileName: 'a.png', data: image },
          { name: 'file2', fileName: 'b.png', data: image },
        ]),
        413,
        /more than one file/,
      ],
      [
        'a file over the limit',
        form([{ name: 'file', fileName: 'big.png', type: 'image/png', data: big }]),
        413,
        /the image is larger than the 64 KiB limit/,
      ],
      [
        'a non-image',
        form([{ name: 'file', fileName: 'a.png', type: 'image/png', data: 'this is text' }]),
        415,
        /JPEG|image/,
      ],
      [
        'a truncated form',
        form([{ name: 'file', fileName: 'a.png', data: image }], false).subarray(0, 200),
        400,
        /the multipart form could not be read/,
      ],
    ];
    for (const [what, body, status, detail] of cases) {
      const res = await post('/api/file/upload', body, FORM);
      expect({ what, status: res.status, detail: res.json.detail }).toEqual({
        what,
        status,
        detail: expect.stringMatching(detail),
      });
      // Each sentence says what to send (the size and type ones say what is wrong with the image).
      if (!/larger than the|not a JPEG/.test(res.json.detail)) expect(res.json.detail).toContain('field named "file"');
    }
    expect(uploads()).toBe(before);
  });

  it('answers a body that is not an image, in any content type, with what to send', async () => {
    for (const [body, type] of [
      [JSON.stringify({ image: 'data' }), 'application/json'],
      ['just text', 'text/plain'],
    ] as const) {
      const res = await post('/api/file/upload', body, type);
      expect(res.status).toBe(415);
      expect(res.json.detail).toBe(`the body is not an image: ${UPLOAD_HOW}`);
    }
    const raw = await post('/api/file/upload', Buffer.from('not an image at all'), 'application/octet-stream');
    expect(raw.status).toBe(415);
    const tooBig = await post('/api/file/upload', Buffer.alloc(LIMIT + 1), 'application/octet-stream');
    expect(tooBig).toEqual({ status: 413, json: { detail: 'the request body is larger than the 64 KiB limit' } });
  });

  it('answers a JSON route sent another content type with what to send', async () => {
    for (const [type, body] of [
      ['text/plain', '{"prompt":"x"}'],
      ['application/x-www-form-urlencoded', 'prompt=x'],
      [FORM, form([{ name: 'prompt', data: 'x' }])],
      [undefined, 'prompt'],
    ] as const) {
      const res = await post('/api/video-gen/generate', body, type);
      expect({ type, ...res }).toEqual({ type, status: 415, json: { detail: SEND_JSON } });
    }
  });
});
