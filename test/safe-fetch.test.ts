/**
 * `downloadLimited` against a real loopback server: which failed answers are worth another attempt (a rate limit,
 * a timeout, a server error) and which are not (gone, forbidden), and the size cap on a body that lies about it.
 * Also the guard of URLs kept for later (callbacks): a host name whose DNS answer is private is refused when the URL
 * is given (`checkPublicUrl`) and again when the POST connects (`postGuarded`), where a literal check cannot see it.
 */
import { lookup } from 'node:dns/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { hostname } from 'node:os';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { downloadLimited, isPrivateAddress } from '../src/core/index.js';
import { checkPublicUrl, postGuarded } from '../src/core/safe-fetch.js';

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

/** This machine's name resolves to one of its own (loopback or LAN) addresses: a name only DNS can unmask. */
const ownName = hostname();
const ownNameIsPrivate = await lookup(ownName, { all: true }).then(
  (all) => all.length > 0 && all.every((a) => isPrivateAddress(a.address)),
  () => false,
);

it.skipIf(!ownNameIsPrivate)(
  'refuses a host name that resolves to a private address, given and at send time',
  async () => {
    const port = (server.address() as AddressInfo).port;
    const url = `http://${ownName}:${port}/200`;
    const guard = { what: 'callback_url' };
    await expect(checkPublicUrl(url, guard)).rejects.toThrow(
      'callback_url points to a private or local address, which is not allowed',
    );
    await expect(postGuarded(url, '{}', {}, { ...guard, timeoutMs: 3_000 })).rejects.toThrow(
      'callback_url points to a private or local address, which is not allowed',
    );
    // Allowed for self-hosted setups: the same POST goes through.
    expect(await postGuarded(url, '{}', {}, { ...guard, allowPrivate: true, timeoutMs: 3_000 })).toBe(200);
    await expect(checkPublicUrl('http://no-such-host.invalid/hook', guard)).rejects.toThrow(
      'callback_url: the host no-such-host.invalid could not be found (DNS)',
    );
  },
);
