/**
 * Issue 13.5, bodies that never finish: a client that announces a body, sends part of it and goes silent is
 * answered 408 and cut off after HTTP_REQUEST_TIMEOUT_S; connections beyond HTTP_MAX_CONNECTIONS are closed at
 * once, and the API keeps answering others meanwhile. Real raw sockets against the listening app.
 */
import { connect, type Socket } from 'node:net';
import { request } from 'undici';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { idleProvider } from './support/idle-provider.js';
import { startTestApi, type TestApi } from './support/test-api.js';

let api: TestApi;
let port: number;
beforeAll(async () => {
  api = await startTestApi({
    provider: () => idleProvider(),
    env: { HTTP_REQUEST_TIMEOUT_S: '1', HTTP_MAX_CONNECTIONS: '8' },
  });
  port = Number(new URL(api.base).port);
});
afterAll(() => api.close());

/** Opens a raw socket, writes `head`, and collects what comes back until the server closes it. */
function slowClient(head: string): { socket: Socket; closed: Promise<{ text: string; afterMs: number }> } {
  const socket = connect(port, '127.0.0.1');
  const started = Date.now();
  let text = '';
  socket.on('data', (chunk) => {
    text += chunk.toString();
  });
  socket.on('error', () => {});
  socket.write(head);
  const closed = new Promise<{ text: string; afterMs: number }>((resolve) =>
    socket.on('close', () => resolve({ text, afterMs: Date.now() - started })),
  );
  return { socket, closed };
}

const partialBody =
  'POST /api/video-gen/generate HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"prompt":';

it('#13.5 a body announced as 100 bytes that stops after 10 is answered 408 and closed within seconds', async () => {
  const { closed } = slowClient(partialBody);
  const { text, afterMs } = await closed;
  expect(text).toMatch(/^HTTP\/1\.1 408 /);
  expect(text).toContain('{"detail":"the request took too long to arrive"}');
  expect(afterMs).toBeLessThan(6_000);
}, 20_000);

it('#13.5 silent slow clients are all cut off, and the API answers others meanwhile', async () => {
  const clients = Array.from({ length: 6 }, () => slowClient(partialBody));
  const health = await request(`${api.base}/healthz`);
  expect(health.statusCode).toBe(200);
  await health.body.dump();
  const results = await Promise.all(clients.map((c) => c.closed));
  expect(results.every((r) => r.afterMs < 10_000)).toBe(true);
  const after = await request(`${api.base}/healthz`);
  expect(after.statusCode).toBe(200);
  await after.body.dump();
}, 30_000);

it('#13.5 connections beyond HTTP_MAX_CONNECTIONS are closed at once', async () => {
  const held = Array.from({ length: 8 }, () => slowClient('GET /healthz HTTP/1.1\r\nHost: x\r\n'));
  await new Promise((r) => setTimeout(r, 300));
  const extra = slowClient('GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n');
  const { text, afterMs } = await extra.closed;
  expect(text).toBe('');
  expect(afterMs).toBeLessThan(900);
  for (const c of held) c.socket.destroy();
}, 20_000);
