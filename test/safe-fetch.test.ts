/**
 * `downloadLimited` against a real loopback server: which failed answers are worth another attempt (a rate limit,
 * a timeout, a server error) and which are not (gone, forbidden), and the size cap on a body that lies about it.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { downloadLimited } from '../src/core/index.js';

let server: Server;
let base = '';
beforeAll(async () => {
  server = createServer((req, res) => {
    const status = Number(req.url?.slice(1));
    if (status) return void res.writeHead(status).end('{"code":-1}');
    res.writeHead(200); // no content-length: the cap must hold while streaming
    res.end(Buffer.alloc(5_000));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

const options = { maxBytes: 1_000, timeoutMs: 3_000, allowPrivate: true, what: 'the video' };

it.each([
  [429, true],
  [408, true],
  [500, true],
  [503, true],
  [403, false],
  [404, false],
  [410, false],
])('HTTP %i is a failure worth retrying: %s', async (status, retryable) => {
  await expect(downloadLimited(`${base}/${status}`, options)).rejects.toMatchObject({
    message: `could not download the video: HTTP ${status}`,
    retryable,
  });
});

it('stops reading a body that grows past the cap', async () => {
  await expect(downloadLimited(`${base}/`, options)).rejects.toThrow(
    /the video is larger than the 1000 B limit|larger than/,
  );
});
