/**
 * What a look costs by transport, through the real doubao provider against the fake Doubao (2026 dialect): one
 * message-list call sent plainly (undici), the same call sent from the session's page in the shared Chromium
 * (`DOUBAO_TRANSPORT=page`: the first look launches the browser and opens the page, later ones reuse it), and in
 * `auto` mode against a fake that refuses unsigned calls (the first look is refused plainly and repeated from the
 * page; later ones go to the page at once). Also the Chromium processes a kept page costs.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../src/config.js';
import { createDoubaoProvider } from '../src/providers/doubao/index.js';
import type { TransportMode } from '../src/providers/doubao/transport-selector.js';
import type { UpstreamRef, VideoProvider } from '../src/providers/provider.js';
import { type DoubaoFake, startDoubaoFake } from '../test/fakes/doubao/index.js';
import { writeSessions } from '../test/fakes/doubao/sessions.js';
import { type Bench, type BenchRow, percentile } from './bench-row.js';
import { ProcessWatch } from './chromium-processes.js';

const LOOKS = 12;

async function timedLook(provider: VideoProvider, ref: UpstreamRef): Promise<number> {
  const start = performance.now();
  const result = await provider.poll(ref);
  if (result.state !== 'succeeded') throw new Error(`expected a finished video, got ${JSON.stringify(result)}`);
  return performance.now() - start;
}

function open(fake: DoubaoFake, sessionsFile: string, mode: TransportMode, chromiumPath: string) {
  return createDoubaoProvider({
    sessionsFile,
    baseUrl: fake.baseUrl,
    imagexUrl: fake.imagexUrl,
    uploadUrl: fake.uploadUrl,
    chromiumPath,
    minSpacingMs: 0,
    transportMode: mode,
  });
}

/**
 * `LOOKS` looks at finished videos with a fresh provider in `mode`; the first look is kept apart. The videos are
 * asked for by `starter` (so the looking provider's first call is its first look), or by itself when none.
 */
async function looks(
  fake: DoubaoFake,
  sessionsFile: string,
  mode: TransportMode,
  chromiumPath: string,
  starter?: VideoProvider,
) {
  const provider = await open(fake, sessionsFile, mode, chromiumPath);
  try {
    const refs: UpstreamRef[] = [];
    for (let i = 0; i < LOOKS; i++) refs.push(await (starter ?? provider).start({ prompt: `look ${i}`, guest: false }));
    const watch = new ProcessWatch();
    const ms: number[] = [];
    for (const ref of refs) ms.push(await timedLook(provider, ref));
    watch.stop();
    return { first: ms[0]!, rest: ms.slice(1), peakAlive: watch.peakAlive };
  } finally {
    await provider.close?.();
  }
}

const bench: Bench = async () => {
  const config = loadConfig();
  const chromiumPath = config.CHROMIUM_PATH ?? '/usr/bin/chromium';
  const dir = mkdtempSync(join(tmpdir(), 'dvb-bench-look-'));
  const sessionsFile = join(dir, 'session.json');
  writeSessions(sessionsFile, { users: 1 });
  const fake = await startDoubaoFake({ dialect: '2026' });
  try {
    const starter = await open(fake, sessionsFile, 'http', chromiumPath);
    const plain = await looks(fake, sessionsFile, 'http', chromiumPath, starter);
    const page = await looks(fake, sessionsFile, 'page', chromiumPath, starter);
    await starter.close?.();
    fake.knobs.requireSignature = true;
    // Its own video requests are refused plainly too and move to the page first: its first look finds the page
    // open, is refused plainly and repeated from the page.
    const auto = await looks(fake, sessionsFile, 'auto', chromiumPath);

    const ms = (v: number) => `${v.toFixed(0)} ms`;
    const spread = (v: number[]) => `${ms(percentile(v, 50))} / ${ms(Math.max(...v))}`;
    const plainRef = `plain list call: ${ms(percentile(plain.rest, 50))} p50`;
    const seedRef = 'seed: ≥ 13 500 ms (a new browser + fixed waits, see "retrieval")';
    const rows: BenchRow[] = [
      {
        name: `look: list API, plain HTTP, p50 / max (${LOOKS - 1} looks)`,
        value: spread(plain.rest),
        reference: seedRef,
      },
      {
        name: 'look: list API from the page, first (launches Chromium, opens the page)',
        value: ms(page.first),
        reference: plainRef,
      },
      {
        name: `look: list API from the page, p50 / max (${LOOKS - 1} looks)`,
        value: spread(page.rest),
        reference: plainRef,
      },
      {
        name: 'look from the page: Chromium processes alive (one page kept open)',
        value: String(page.peakAlive),
        reference: `plain HTTP: ${plain.peakAlive}`,
      },
      {
        name: 'look, auto + signatures required: first (refused plainly, then from the open page)',
        value: ms(auto.first),
        reference: plainRef,
      },
      { name: `look, auto + signatures required: later, p50 / max`, value: spread(auto.rest), reference: plainRef },
    ];
    return rows;
  } finally {
    await fake.close();
    rmSync(dir, { recursive: true, force: true });
  }
};

export default bench;
