/**
 * `HttpTransport`, the default way a Doubao web API call travels: the session's cookie and the web client's
 * headers on the call's own, every status handed back as an answer, a body cut off handed back as far as it came
 * (marked broken, so an acknowledged job is still read), and an unreachable Doubao a retryable error.
 */
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { UpstreamError } from '../src/core/errors.js';
import { type Session, sessionIdOf } from '../src/providers/doubao/session-pool.js';
import { type DoubaoCall, HttpTransport } from '../src/providers/doubao/transport.js';
import { fakeSession } from './fakes/doubao/sessions.js';

const fields = fakeSession('user');
const session: Session = { ...fields, id: sessionIdOf(fields), label: 'test', guest: false };
const call = (path: string, extra: Partial<DoubaoCall> = {}): DoubaoCall => ({
  kind: 'list',
  method: 'POST',
  path,
  query: 'aid=497858',
  headers: { 'content-type': 'application/json; encoding=utf-8' },
  body: '{"cmd":3100}',
  timeoutMs: 2_000,
  ...extra,
});

describe('HttpTransport', () => {
  let server: Server;
  let base: string;
  let seen: { url: string; headers: IncomingHttpHeaders; body: string } | undefined;

  beforeAll(async () => {
    server = createServer(async (req, res) => {
      let body = '';
      for await (const chunk of req) body += chunk;
      seen = { url: req.url!, headers: req.headers, body };
      if (req.url!.startsWith('/cut')) {
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        res.write('event: SSE_ACK\ndata: {"ack_client_meta":{"conversation_id":"1"}}\n\n', () => res.destroy());
      } else if (req.url!.startsWith('/stall')) {
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        res.write('event: SSE_HEARTBEAT\ndata: \n\n');
      } else res.writeHead(403, { 'content-type': 'application/json', 'x-Tt-Logid': 'abc' }).end('{"code":1011}');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  it('sends the session cookie and web client headers with the call, and hands back any status', async () => {
    const answer = await new HttpTransport({ baseUrl: `${base}/` }).send(session, call('/im/chain/single'));
    expect(answer).toEqual({
      status: 403,
      headers: expect.objectContaining({ 'x-tt-logid': 'abc' }),
      body: '{"code":1011}',
    });
    expect(seen).toMatchObject({ url: '/im/chain/single?aid=497858', body: '{"cmd":3100}' });
    expect(seen!.headers).toMatchObject({
      cookie: fields.cookie,
      origin: base,
      referer: `${base}/chat/${fields.room_id}`,
      'content-type': 'application/json; encoding=utf-8',
    });
    expect(seen!.headers['user-agent']).toMatch(/Chrome/);
  });

  it('hands back a body cut off, as far as it came, marked broken', async () => {
    const answer = await new HttpTransport({ baseUrl: base }).send(session, call('/cut', { kind: 'completion' }));
    expect(answer.status).toBe(200);
    expect(answer.body).toContain('SSE_ACK');
    expect(answer.broken).toBeInstanceOf(Error);
  });

  it('ends a stalled body after the idle time, keeping what came', async () => {
    const answer = await new HttpTransport({ baseUrl: base }).send(session, call('/stall', { timeoutMs: 300 }));
    expect(answer.body).toContain('SSE_HEARTBEAT');
    expect(answer.broken).toBeInstanceOf(Error);
  });

  it('rejects with a retryable UpstreamError when Doubao cannot be reached', async () => {
    const error = await new HttpTransport({ baseUrl: 'http://127.0.0.1:9' }).send(session, call('/x')).catch((e) => e);
    expect(error).toBeInstanceOf(UpstreamError);
    expect(error).toMatchObject({ retryable: true, message: /could not be reached/ });
  });
});
