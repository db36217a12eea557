/**
 * CORS for browser clients (CORS_ORIGINS): preflights are answered before the bearer check, answers (401s included)
 * carry the headers for allowed origins only, and without CORS_ORIGINS no CORS header is sent. The last test is a
 * real page in Chromium, on another origin, calling the API with its token.
 */
import { existsSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { chromium } from 'playwright-core';
import { request } from 'undici';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config.js';
import { CHROMIUM_ARGS } from '../src/providers/doubao/chromium.js';
import { startTestApi, type TestApi } from './support/test-api.js';

const TOKEN = 'cors-test-token-0123456789abc';
const APP = 'https://app.example.com';
let api: TestApi | undefined;
let page: Server | undefined;
afterEach(async () => {
  await api?.close();
  api = undefined;
  await new Promise((resolve) => (page ? page.close(resolve) : resolve(undefined)));
  page = undefined;
});

async function call(method: 'OPTIONS' | 'GET' | 'POST', path: string, headers: Record<string, string>) {
  const res = await request(`${api!.base}${path}`, { method, headers });
  await res.body.dump();
  return { status: res.statusCode, headers: res.headers };
}

const preflight = (origin: string) => ({
  origin,
  'access-control-request-method': 'POST',
  'access-control-request-headers': 'authorization,content-type',
});

describe('CORS', () => {
  it('answers an allowed origin’s preflight without a token, and adds the headers to answers and 401s', async () => {
    api = await startTestApi({ env: { API_TOKEN: TOKEN, CORS_ORIGINS: `${APP}, http://localhost:5173` } });
    const pre = await call('OPTIONS', '/api/video-gen/generate', preflight(APP));
    expect(pre.status).toBe(204);
    expect(pre.headers['access-control-allow-origin']).toBe(APP);
    expect(String(pre.headers['access-control-allow-methods'])).toContain('POST');
    expect(String(pre.headers['access-control-allow-headers']).toLowerCase()).toContain('authorization');
    expect(pre.headers['access-control-max-age']).toBe('600');

    const list = await call('GET', '/api/video-gen/list', { origin: APP, authorization: `Bearer ${TOKEN}` });
    expect(list.status).toBe(200);
    expect(list.headers['access-control-allow-origin']).toBe(APP);
    expect(String(list.headers.vary)).toMatch(/origin/i);
    const denied = await call('GET', '/api/video-gen/list', { origin: 'http://localhost:5173' });
    expect(denied.status).toBe(401);
    expect(denied.headers['access-control-allow-origin']).toBe('http://localhost:5173');
  });

  it('gives no CORS header to other origins, nor to anyone without CORS_ORIGINS', async () => {
    api = await startTestApi({ env: { CORS_ORIGINS: APP } });
    const other = await call('OPTIONS', '/api/video-gen/generate', preflight('https://evil.example'));
    expect(other.headers['access-control-allow-origin']).toBeUndefined();
    const get = await call('GET', '/healthz', { origin: 'https://evil.example' });
    expect(get.headers['access-control-allow-origin']).toBeUndefined();
    await api.close();

    api = await startTestApi();
    const none = await call('OPTIONS', '/api/video-gen/generate', preflight(APP));
    expect(none.headers['access-control-allow-origin']).toBeUndefined();
    const plain = await call('GET', '/healthz', { origin: APP });
    expect(plain.status).toBe(200);
    expect(Object.keys(plain.headers).filter((h) => h.startsWith('access-control-'))).toEqual([]);
  });

  it('refuses at start-up a CORS_ORIGINS entry that is not an origin, naming the variable', () => {
    expect(loadConfig({ CORS_ORIGINS: '*' }).CORS_ORIGINS).toEqual(['*']);
    for (const bad of ['https://app.example.com/', 'app.example.com', 'https://app.example.com/path', 'ftp://x.org']) {
      expect(() => loadConfig({ CORS_ORIGINS: `${APP},${bad}` }), bad).toThrow(/^Invalid CORS_ORIGINS: each origin is/);
    }
  });

  it.skipIf(!existsSync('/usr/bin/chromium'))(
    'lets a page on an allowed origin POST generate with its token in real Chromium; another origin is blocked',
    { timeout: 60_000 },
    async () => {
      page = createServer((_req, res) => res.writeHead(200, { 'content-type': 'text/html' }).end('<p>app</p>'));
      await new Promise<void>((resolve) => page!.listen(0, '127.0.0.1', resolve));
      const pageOrigin = `http://127.0.0.1:${(page.address() as AddressInfo).port}`;
      api = await startTestApi({ env: { API_TOKEN: TOKEN, CORS_ORIGINS: pageOrigin } });
      const browser = await chromium.launch({
        executablePath: '/usr/bin/chromium',
        headless: true,
        args: CHROMIUM_ARGS,
      });
      try {
        const tab = await browser.newPage();
        const fromPage = (url: string) =>
          tab.evaluate(
            async ({ url, token }) => {
              try {
                const res = await fetch(url, {
                  method: 'POST',
                  headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
                  body: JSON.stringify({ prompt: 'a browser-made video' }),
                });
                return { status: res.status, body: await res.json() };
              } catch (error) {
                return { error: String(error) };
              }
            },
            { url, token: TOKEN },
          );
        await tab.goto(pageOrigin);
        const allowed = await fromPage(`${api.base}/api/video-gen/generate`);
        expect(allowed).toMatchObject({ status: 200, body: { success: true } });
        // The same page, but the API now names another origin: the browser refuses to let the page read it.
        await api.close();
        api = await startTestApi({ env: { API_TOKEN: TOKEN, CORS_ORIGINS: APP } });
        const blocked = await fromPage(`${api.base}/api/video-gen/generate`);
        expect(blocked).toEqual({ error: expect.stringMatching(/Failed to fetch/) });
      } finally {
        await browser.close();
      }
    },
  );
});
