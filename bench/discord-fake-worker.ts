/**
 * The Discord fake for the burst bench, in a worker thread of its own: Discord is another machine, so its side of
 * the burst (building 500 interactions, serving 1 000 REST calls) must not take the bot's event loop, as it would
 * in one thread. Answers `burst` with each interaction's time to acknowledgement and to the task id shown.
 */
import { parentPort } from 'node:worker_threads';
import { type LoggedRequest, startDiscordFake } from '../test/fakes/discord/index.js';

export interface BurstResult {
  ackMs: number[];
  visibleMs: number[];
  deferred: number;
}

const port = parentPort!;
const fake = await startDiscordFake();
port.postMessage({ type: 'ready', endpoint: { token: fake.token, appId: fake.appId, apiBase: fake.apiBase } });

port.on('message', async (message: { type: 'burst'; size: number; limitMs: number } | { type: 'close' }) => {
  if (message.type === 'close') {
    await fake.close();
    port.close();
    return;
  }
  const sent = Array.from({ length: message.size }, (_, i) =>
    fake.slash({ name: 'video', options: { prompt: `burst ${i}` }, userId: String(900000000000000000n + BigInt(i)) }),
  );
  const tokens = new Set(sent.map((s) => s.token));
  // Interaction routes carry the token as the fourth path segment: /interactions/<id>/<token>/callback and
  // /webhooks/<app>/<token>/messages/@original.
  const acked = new Map<string, LoggedRequest>();
  const visible = new Map<string, LoggedRequest>();
  let read = 0;
  const until = Date.now() + message.limitMs;
  while (visible.size < sent.length && Date.now() < until) {
    for (; read < fake.requests.length; read++) {
      const r = fake.requests[read]!;
      const token = r.path.split('/')[3] ?? '';
      if (!tokens.has(token)) continue;
      if (r.method === 'POST' && r.path.endsWith('/callback') && !acked.has(token)) acked.set(token, r);
      const body = r.method === 'POST' ? (r.body?.data as Record<string, unknown> | undefined) : r.body;
      if (/accepted/.test(String(body?.content ?? '')) && !visible.has(token)) visible.set(token, r);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  const since = (r: LoggedRequest | undefined, sentAt: number) => (r ? r.at - sentAt : Number.POSITIVE_INFINITY);
  const result: BurstResult = {
    ackMs: sent.map((s) => since(acked.get(s.token), s.sentAt)),
    visibleMs: sent.map((s) => since(visible.get(s.token), s.sentAt)),
    deferred: [...acked.values()].filter((r) => r.body?.type === 5).length,
  };
  port.postMessage({ type: 'result', result });
});
