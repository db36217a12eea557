/**
 * The API's own documentation, checked as a client uses it: the generate example of /openapi.json POSTed as sent
 * gets 200; error answers are declared once (components.responses) and every reference resolves; the upload's body
 * is documented as bytes and as a form; and in /docs (Swagger UI, in real Chromium) "Try it out" on the upload
 * offers a file picker whose upload succeeds.
 */
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ERROR_RESPONSES } from '../adapters/http/openapi.js';
import { CHROMIUM_ARGS } from '../src/providers/doubao/chromium.js';
import { sampleImage } from './support/media-samples.js';
import { startTestApi, type TestApi } from './support/test-api.js';

let api: TestApi;
// biome-ignore lint/suspicious/noExplicitAny: the OpenAPI document is walked as plain JSON
let doc: any;
beforeAll(async () => {
  api = await startTestApi();
  doc = JSON.parse(await (await request(`${api.base}/openapi.json`)).body.text());
});
afterAll(() => api.close());

describe('the OpenAPI document', () => {
  it('has a generate example that works as sent', async () => {
    const media = doc.paths['/api/video-gen/generate'].post.requestBody.content['application/json'];
    const example = media.example ?? media.schema.example;
    expect(example).toBeDefined();
    const res = await request(`${api.base}/api/video-gen/generate`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(example),
    });
    const answer = JSON.parse(await res.body.text());
    expect(res.statusCode, JSON.stringify(answer)).toBe(200);
    expect(answer).toMatchObject({ success: true, task_status: 'pending' });
  });

  it('declares each error answer once and refers to it from the routes; every $ref resolves', () => {
    const shared = doc.components.responses;
    expect(Object.keys(shared).sort()).toEqual(
      Object.values(ERROR_RESPONSES)
        .map((e) => e.name)
        .sort(),
    );
    let errorAnswers = 0;
    for (const [path, methods] of Object.entries<Record<string, { responses: Record<string, unknown> }>>(doc.paths)) {
      for (const [method, op] of Object.entries(methods)) {
        for (const [status, response] of Object.entries(op.responses)) {
          if (Number(status) < 400 || path === '/readyz') continue;
          errorAnswers++;
          expect(response, `${method} ${path} ${status}`).toEqual({
            $ref: `#/components/responses/${ERROR_RESPONSES[Number(status)]!.name}`,
          });
        }
      }
    }
    expect(errorAnswers).toBeGreaterThan(20);
    const refs = [...JSON.stringify(doc).matchAll(/"\$ref":"#\/([^"]+)"/g)].map((m) => m[1]!);
    for (const ref of new Set(refs)) {
      const target = ref.split('/').reduce((node, key) => node?.[key], doc);
      expect(target, ref).toBeDefined();
    }
    expect(doc.components.schemas.Detail.properties.detail.type).toBe('string');
  });

  it('documents the upload body as raw bytes and as a form with a `file` field, and the new routes', () => {
    const content = doc.paths['/api/file/upload'].post.requestBody.content;
    expect(content['application/octet-stream'].schema).toMatchObject({ type: 'string', format: 'binary' });
    expect(content['multipart/form-data'].schema.properties.file).toMatchObject({ type: 'string', format: 'binary' });
    expect(doc.paths['/api/video-gen/cancel'].post.responses['409']).toBeDefined();
    expect(doc.paths['/api/video-gen/retry'].post.responses['409']).toBeDefined();
    const generate = doc.paths['/api/video-gen/generate'].post.requestBody.content['application/json'].schema;
    expect(generate.properties.callback_url.description).toMatch(/X-Signature-256/);
    expect(doc.info.description).toMatch(/callback_url[\s\S]*X-Signature-256[\s\S]*CORS_ORIGINS/);
  });
});

const CHROMIUM = '/usr/bin/chromium';
describe.skipIf(!existsSync(CHROMIUM))('/docs in a browser', () => {
  it('"Try it out" on the upload offers a file picker, and the picked image uploads (200)', {
    timeout: 60_000,
  }, async () => {
    const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
    try {
      const page = await browser.newPage();
      await page.goto(`${api.base}/docs`);
      await page.locator('#operations-file-post_api_file_upload').click();
      await page.getByRole('button', { name: 'Try it out' }).click();
      const picker = page.locator('#operations-file-post_api_file_upload input[type=file]');
      await expect.poll(() => picker.count(), { timeout: 15_000 }).toBe(1);
      const file = join(api.core.dataDir, 'docs-cat.png');
      writeFileSync(file, sampleImage('png', 48, 36));
      await picker.setInputFiles(file);
      await page.getByRole('button', { name: 'Execute' }).click();
      const status = page.locator(
        '#operations-file-post_api_file_upload .live-responses-table tr.response .response-col_status',
      );
      await expect.poll(() => status.first().textContent(), { timeout: 15_000 }).toMatch(/200/);
      const body = await page
        .locator('#operations-file-post_api_file_upload .live-responses-table .microlight')
        .first()
        .textContent();
      expect(body).toContain('vlm_image');
    } finally {
      await browser.close();
    }
  });
});
