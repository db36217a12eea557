/**
 * Discord `/video` acknowledgement under a burst: 500 interactions pushed through the fake gateway at once to a
 * real discord.js client running the adapter on a real core (an idle provider, so nothing renders). Measures the
 * time from the gateway dispatch to the defer callback reaching the fake REST API, and to the reply with the task
 * id, against Discord's 3-second acknowledgement limit. Loopback only; gives up after 60 s.
 */
import { startDiscordRig } from '../test/support/discord-harness.js';
import { idleProvider } from '../test/support/idle-provider.js';
import { type Bench, percentile } from './bench-row.js';

const BURST = 500;
const LIMIT_MS = 60_000;

const bench: Bench = async () => {
  const rig = await startDiscordRig({
    provider: idleProvider,
    env: { LOG_LEVEL: 'warn', FIRST_ATTEMPT_DELAY_S: '600' },
  });
  const { fake } = rig;
  try {
    const sent = Array.from({ length: BURST }, (_, i) =>
      fake.slash({ name: 'video', options: { prompt: `burst ${i}` }, userId: String(900000000000000000n + BigInt(i)) }),
    );
    const byToken = new Map(sent.map((s) => [s.token, s.sentAt]));
    const deferred = await Promise.all(
      sent.map((s) => fake.waitFor((r) => r.method === 'POST' && r.path.includes(`/${s.token}/callback`), LIMIT_MS)),
    );
    const answered = await Promise.all(
      sent.map((s) =>
        fake.waitFor(
          (r) => r.method === 'PATCH' && r.path.includes(s.token) && /accepted/.test(String(r.body?.content)),
          LIMIT_MS,
        ),
      ),
    );
    const tokenOf = (path: string) => [...byToken.keys()].find((t) => path.includes(t))!;
    const deferMs = deferred.map((r) => r.at - byToken.get(tokenOf(r.path))!);
    const answerMs = answered.map((r) => r.at - byToken.get(tokenOf(r.path))!);
    const ms = (v: number) => `${v.toFixed(1)} ms`;
    const limit = "Discord's limit to acknowledge: 3000 ms";
    return [
      { name: `discord /video defer p50 (${BURST} burst)`, value: ms(percentile(deferMs, 50)), reference: limit },
      { name: `discord /video defer p99 (${BURST} burst)`, value: ms(percentile(deferMs, 99)), reference: limit },
      { name: `discord /video defer max (${BURST} burst)`, value: ms(Math.max(...deferMs)), reference: limit },
      {
        name: `discord /video task id reply p50 / p99`,
        value: `${ms(percentile(answerMs, 50))} / ${ms(percentile(answerMs, 99))}`,
        reference: 'token lives 15 min',
      },
    ];
  } finally {
    await rig.close();
  }
};

export default bench;
