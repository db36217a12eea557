/**
 * Retrieval attempt cost through the real doubao provider's `poll`, two ways: a look through the message-list API
 * (one HTTP call, the fake speaking the 2026 dialect; no browser) and a look on the fake Doubao chat page (the
 * fake speaking only the 2025 dialect, so the page is the way; one long-lived headless Chromium, a fresh context
 * per attempt): wall time of attempts that find a ready video (the first page one includes launching the
 * browser), of attempts on a video still generating (the page ones watch it for the default DOUBAO_PAGE_WAIT_S),
 * and the Chromium processes started per attempt. The reference is the seed's procedure: a
 * new browser for every attempt plus at least 13.5 s of fixed waits; its launch and page load are measured here
 * once and the 13.5 s added.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { loadConfig } from '../src/config.js';
import { CHROMIUM_ARGS } from '../src/providers/doubao/chromium.js';
import { createDoubaoProvider } from '../src/providers/doubao/index.js';
import type { UpstreamRef, VideoProvider } from '../src/providers/provider.js';
import { startDoubaoFake } from '../test/fakes/doubao/index.js';
import { writeSessions } from '../test/fakes/doubao/sessions.js';
import { type Bench, percentile } from './bench-row.js';
import { ProcessWatch } from './chromium-processes.js';

const FOUND_ATTEMPTS = 12;
const LIST_LOOKS = 50;
const NOT_READY_ATTEMPTS = 2;
const SEED_FIXED_WAITS_MS = 13_500;

async function timed<T>(work: () => Promise<T>): Promise<{ ms: number; value: T }> {
  const start = performance.now();
  const value = await work();
  return { ms: performance.now() - start, value };
}

/** The seed's attempt without its fixed waits: launch a browser, load the chat page, close the browser. */
async function freshBrowserAttempt(chromiumPath: string, chatUrl: string) {
  const watch = new ProcessWatch();
  const { ms } = await timed(async () => {
    const browser = await chromium.launch({ executablePath: chromiumPath, headless: true, args: CHROMIUM_ARGS });
    const page = await browser.newPage();
    await page.goto(chatUrl, { waitUntil: 'load' });
    await browser.close();
  });
  watch.stop();
  return { ms, processes: watch.started.size };
}

async function poll(provider: VideoProvider, ref: UpstreamRef, expect: 'succeeded' | 'running') {
  const { ms, value } = await timed(() => provider.poll(ref));
  if (value.state !== expect) throw new Error(`expected ${expect}, the provider answered ${JSON.stringify(value)}`);
  return ms;
}

const bench: Bench = async () => {
  const config = loadConfig();
  const chromiumPath = config.CHROMIUM_PATH ?? '/usr/bin/chromium';
  const dir = mkdtempSync(join(tmpdir(), 'dvb-bench-'));
  const fake = await startDoubaoFake({ dialect: '2025' });
  writeSessions(join(dir, 'session.json'), { users: 1 });
  const open = () =>
    createDoubaoProvider({
      sessionsFile: join(dir, 'session.json'),
      baseUrl: fake.baseUrl,
      imagexUrl: fake.imagexUrl,
      uploadUrl: fake.uploadUrl,
      chromiumPath,
      minSpacingMs: 0,
      settleMs: config.DOUBAO_PAGE_WAIT_S * 1000,
    });
  const provider = await open();
  try {
    const ready = [];
    for (let i = 0; i < FOUND_ATTEMPTS; i++) ready.push(await provider.start({ prompt: `ready ${i}`, guest: false }));
    const generating = await provider.start({ prompt: 'still generating', guest: false });
    fake.knobs.readyDelayFor.set(generating.conversationId!, 3_600_000);

    const watch = new ProcessWatch();
    const foundMs: number[] = [];
    for (const ref of ready) foundMs.push(await poll(provider, ref, 'succeeded'));
    const notReadyMs: number[] = [];
    for (let i = 0; i < NOT_READY_ATTEMPTS; i++) notReadyMs.push(await poll(provider, generating, 'running'));
    watch.stop();
    const attempts = FOUND_ATTEMPTS + NOT_READY_ATTEMPTS;

    // The same looks through the message list: the fake now speaks the 2026 dialect too.
    fake.knobs.dialect = 'both';
    const lister = await open();
    const listed = await lister.start({ prompt: 'listed', guest: false });
    const listedRunning = await lister.start({ prompt: 'listed, still generating', guest: false });
    fake.knobs.readyDelayFor.set(listedRunning.conversationId!, 3_600_000);
    const listWatch = new ProcessWatch();
    const listFoundMs: number[] = [];
    const listRunningMs: number[] = [];
    for (let i = 0; i < LIST_LOOKS; i++) {
      listFoundMs.push(await poll(lister, listed, 'succeeded'));
      listRunningMs.push(await poll(lister, listedRunning, 'running'));
    }
    listWatch.stop();
    const listBrowsers = lister.browserLaunches;
    await lister.close?.();

    const seed = await freshBrowserAttempt(chromiumPath, `${fake.baseUrl}/chat/${ready[0]!.conversationId}`);
    const seedMs = seed.ms + SEED_FIXED_WAITS_MS;
    const ms = (v: number) => `${v.toFixed(0)} ms`;
    const seedRef = `seed: ≥ ${ms(seedMs)} (${ms(seed.ms)} launch + load, measured, + 13 500 ms fixed waits)`;
    const listP50 = percentile(listFoundMs, 50);
    return [
      {
        name: `retrieval: list-API look, video found, p50 / max (${LIST_LOOKS} looks)`,
        value: `${ms(listP50)} / ${ms(Math.max(...listFoundMs))}`,
        reference: seedRef,
      },
      {
        name: 'retrieval: list-API look, not ready yet, mean',
        value: ms(listRunningMs.reduce((a, b) => a + b, 0) / listRunningMs.length),
        reference: seedRef,
      },
      {
        name: 'retrieval: seed procedure ÷ list-API look (p50)',
        value: `${Math.round(seedMs / listP50).toLocaleString('en')} ×`,
        reference: 'how many list looks cost one seed attempt',
      },
      {
        name: `retrieval: browsers launched by ${LIST_LOOKS * 2} list-API looks`,
        value: `${listBrowsers} (${listWatch.started.size} Chromium processes)`,
        reference: 'seed: 1 browser per attempt',
      },
      {
        name: 'retrieval: page look, first attempt (launches the browser)',
        value: ms(foundMs[0]!),
        reference: seedRef,
      },
      {
        name: `retrieval: page look, video found, p50 / max (${FOUND_ATTEMPTS - 1} attempts)`,
        value: `${ms(percentile(foundMs.slice(1), 50))} / ${ms(Math.max(...foundMs.slice(1)))}`,
        reference: seedRef,
      },
      {
        name: `retrieval: page look, not ready yet (watches ${config.DOUBAO_PAGE_WAIT_S} s), mean`,
        value: ms(notReadyMs.reduce((a, b) => a + b, 0) / notReadyMs.length),
        reference: seedRef,
      },
      {
        name: `retrieval: page look, browsers launched per attempt (${attempts} attempts)`,
        value: (watch.browsers.size / attempts).toFixed(2),
        reference: 'seed: 1 per attempt',
      },
      {
        name: `retrieval: page look, Chromium processes started per attempt`,
        value: `${(watch.started.size / attempts).toFixed(1)} (peak ${watch.peakAlive} alive)`,
        reference: `seed: ${seed.processes} per attempt (a whole browser)`,
      },
    ];
  } finally {
    await provider.close?.();
    await fake.close();
    rmSync(dir, { recursive: true, force: true });
  }
};

export default bench;
