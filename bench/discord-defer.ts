/**
 * Discord `/video` acknowledgement under a burst: 500 interactions pushed through the fake gateway at once to a
 * real discord.js client running the adapter on a real core (an idle provider, so nothing renders). Measures the
 * time from the gateway dispatch to the acknowledgement reaching the fake REST API (Discord's 3-second limit), and
 * to the first message showing the task id: since issue 15 a text-to-video is answered directly with the task in
 * the acknowledgement; before, a deferral's follow-up edit queued behind discord.js's 50 req/s global REST limit
 * (p50 15.7 s, p99 19.9 s). Loopback only; gives up after 60 s.
 */
import { QUEUE_REFRESH_MS } from '../adapters/discord/index.js';
import { startDiscordRig, taskAnswer } from '../test/support/discord-harness.js';
import { idleProvider } from '../test/support/idle-provider.js';
import { type Bench, percentile } from './bench-row.js';

const BURST = 500;
const LIMIT_MS = 60_000;

const bench: Bench = async () => {
  const rig = await startDiscordRig({
    provider: idleProvider,
    env: { LOG_LEVEL: 'warn', FIRST_ATTEMPT_DELAY_S: '600' },
    queueRefreshMs: QUEUE_REFRESH_MS,
  });
  const { fake } = rig;
  try {
    const sent = Array.from({ length: BURST }, (_, i) =>
      fake.slash({ name: 'video', options: { prompt: `burst ${i}` }, userId: String(900000000000000000n + BigInt(i)) }),
    );
    const acked = await Promise.all(
      sent.map((s) => fake.waitFor((r) => r.method === 'POST' && r.path.includes(`/${s.token}/callback`), LIMIT_MS)),
    );
    const visible = await Promise.all(sent.map((s) => taskAnswer(fake, s.token, /accepted/, LIMIT_MS)));
    const ackMs = acked.map((r, i) => r.at - sent[i]!.sentAt);
    const visibleMs = visible.map((r, i) => r.at - sent[i]!.sentAt);
    const deferred = acked.filter((r) => r.body?.type === 5).length;
    const ms = (v: number) => `${v.toFixed(1)} ms`;
    const limit = "Discord's limit to acknowledge: 3000 ms";
    return [
      { name: `discord /video ack p50 (${BURST} burst)`, value: ms(percentile(ackMs, 50)), reference: limit },
      { name: `discord /video ack p99 (${BURST} burst)`, value: ms(percentile(ackMs, 99)), reference: limit },
      {
        name: `discord /video task id visible p50 / p99 (${BURST} burst)`,
        value: `${ms(percentile(visibleMs, 50))} / ${ms(percentile(visibleMs, 99))}`,
        reference: `target p99 < 1000 ms; ${deferred} of ${BURST} deferred`,
      },
    ];
  } finally {
    await rig.close();
  }
};

export default bench;
