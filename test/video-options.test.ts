/**
 * Generation options (#15) through the core: one check (zod) of the values and of what the running provider
 * declares it can honour, a refusal that says what is supported and keeps nothing, options stored with the task
 * (across a restart) and handed to the provider's start, a request without options exactly as before.
 */
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { InvalidInput } from '../src/core/errors.js';
import { checkOptions, OptionRefused, RATIOS } from '../src/core/options.js';
import { ARK_CAPABILITIES, createArkProvider } from '../src/providers/ark/index.js';
import { DOUBAO_CAPABILITIES } from '../src/providers/doubao/completion.js';
import { capabilitiesOf } from '../src/providers/index.js';
import { createLocalProvider, LOCAL_CAPABILITIES } from '../src/providers/local/index.js';
import type { StartRequest } from '../src/providers/provider.js';
import { scriptedProvider } from './support/scripted-provider.js';
import { finished, startTestCore, type TestCore, waitFor } from './support/test-core.js';
import { probeVideo } from './support/video-probe.js';

const cores: TestCore[] = [];
afterEach(async () => {
  for (const core of cores.splice(0)) await core.dispose();
});

const origin = { platform: 'http' as const, userId: 'api' };

/** A scripted provider that declares the local provider's options and records every start request. */
function recordingProvider() {
  const provider = scriptedProvider();
  const starts: StartRequest[] = [];
  const start = provider.start.bind(provider);
  provider.start = (req) => {
    starts.push(req);
    return start(req);
  };
  return Object.assign(provider, { capabilities: LOCAL_CAPABILITIES, starts });
}

describe('#15 checking options (one place, zod)', () => {
  it('takes the usual spellings and keeps only what was given', () => {
    expect(checkOptions({ ratio: ' 9：16 ', durationS: '10s', resolution: '1080P' }, ARK_CAPABILITIES, 'ark')).toEqual({
      ratio: '9:16',
      durationS: 10,
      resolution: '1080p',
    });
    expect(checkOptions({ ratio: '16x9' }, ARK_CAPABILITIES, 'ark')).toEqual({ ratio: '16:9' });
    expect(checkOptions({ durationS: 5, resolution: '480' }, ARK_CAPABILITIES, 'ark')).toEqual({
      durationS: 5,
      resolution: '480p',
    });
    expect(checkOptions({}, ARK_CAPABILITIES, 'ark')).toBeNull();
    expect(checkOptions({ ratio: '', durationS: null }, ARK_CAPABILITIES, 'ark')).toBeNull();
    expect(checkOptions(undefined, ARK_CAPABILITIES, 'ark')).toBeNull();
  });

  it('refuses an unknown value with what the provider supports', () => {
    const refused = (input: object) => {
      try {
        checkOptions(input, ARK_CAPABILITIES, 'ark');
      } catch (error) {
        return error as OptionRefused;
      }
      throw new Error('not refused');
    };
    const ratio = refused({ ratio: '7:5' });
    expect(ratio).toBeInstanceOf(InvalidInput);
    expect(ratio).toMatchObject({ code: 'INVALID_INPUT', option: 'ratio', value: '7:5', reason: 'invalid' });
    expect(ratio.message).toBe(`ratio "7:5" is not valid; the ark provider supports ratio ${RATIOS.join(', ')}`);
    expect(refused({ durationS: 7 }).message).toBe(
      'duration "7" is not valid; the ark provider supports duration 5 s, 10 s',
    );
    expect(refused({ durationS: 'ten' }).message).toMatch(/^duration "ten" is not valid/);
    expect(refused({ durationS: 5.5 }).reason).toBe('invalid');
    expect(refused({ resolution: '4k' }).message).toBe(
      'resolution "4k" is not valid; the ark provider supports resolution 480p, 720p, 1080p',
    );
    expect(refused({ ratio: { evil: true } }).value).toBe('{"evil":true}');
    expect(refused({ ratio: 'x'.repeat(10_000) }).message.length).toBeLessThan(200);
  });

  it('refuses a valid option the provider cannot honour, saying what it supports (never ignored)', () => {
    expect(() => checkOptions({ resolution: '720p' }, LOCAL_CAPABILITIES, 'local')).toThrow(
      'the local provider cannot set the resolution; leave it out',
    );
    const narrow = { ratios: ['16:9', '9:16'] as const, durationsS: [5], resolutions: [] as const };
    expect(() => checkOptions({ ratio: '1:1' }, narrow, 'doubao')).toThrow(
      'the doubao provider cannot make ratio 1:1; it supports 16:9, 9:16',
    );
    expect(() => checkOptions({ durationS: '10' }, narrow, 'doubao')).toThrow(
      'the doubao provider cannot make duration 10 s; it supports 5 s',
    );
  });
});

describe('#15 what each provider declares', () => {
  it('the built providers declare what registration offers (capabilitiesOf): Ark alone has resolutions', async () => {
    const local = createLocalProvider({ workDir: join(tmpdir(), 'dvb-caps-unused'), ffmpegPath: 'ffmpeg' });
    const ark = createArkProvider({
      apiKey: 'k',
      baseUrl: 'http://127.0.0.1:9/api/v3',
      model: 'm',
      ratio: '16:9',
      durationS: 5,
      resolution: '720p',
      maxConcurrent: 1,
      firstCheckS: 1,
      pollIntervalS: 1,
      maxAttempts: 1,
      workDir: join(tmpdir(), 'dvb-caps-unused'),
    });
    expect(local.capabilities).toEqual(capabilitiesOf('local'));
    expect(ark.capabilities).toEqual(capabilitiesOf('ark'));
    expect(capabilitiesOf('doubao')).toBe(DOUBAO_CAPABILITIES);
    expect(capabilitiesOf('ark').resolutions).toEqual(['480p', '720p', '1080p']);
    expect([capabilitiesOf('local').resolutions, capabilitiesOf('doubao').resolutions]).toEqual([[], []]);
    await Promise.all([local.close?.(), ark.close?.()]);
  });
});

describe('#15 options through the core', () => {
  it('stores the options with the task, hands them to the start, and keeps them across a restart', async () => {
    const provider = recordingProvider();
    const core = await startTestCore({ provider: () => provider, keepData: true });
    cores.push(core);
    const task = await core.service.submit({ prompt: 'tall', options: { ratio: '9:16', durationS: '10' }, origin });
    expect(task.options).toEqual({ ratio: '9:16', durationS: 10 });
    await waitFor(
      () => provider.starts.length,
      (n) => n > 0,
    );
    expect(provider.starts[0]).toMatchObject({ prompt: 'tall', options: { ratio: '9:16', durationS: 10 } });
    await core.dispose();

    const again = await startTestCore({ provider: () => recordingProvider(), dataDir: core.dataDir });
    cores.push(again);
    expect((await again.service.get(task.id)).options).toEqual({ ratio: '9:16', durationS: 10 });
  });

  it('a request without options is stored without any and starts with none (the provider defaults, as before)', async () => {
    const provider = recordingProvider();
    const core = await startTestCore({ provider: () => provider });
    cores.push(core);
    const task = await core.service.submit({ prompt: 'as before', origin });
    expect(task.options).toBeNull();
    await waitFor(
      () => provider.starts.length,
      (n) => n > 0,
    );
    expect(provider.starts[0]).toEqual({ prompt: 'as before', guest: false });
  });

  it('refuses at submit what the provider cannot honour, and keeps nothing', async () => {
    const core = await startTestCore({ provider: () => recordingProvider() });
    cores.push(core);
    await expect(core.service.submit({ prompt: 'sharp', options: { resolution: '1080p' }, origin })).rejects.toThrow(
      'the scripted provider cannot set the resolution; leave it out',
    );
    await expect(core.service.submit({ prompt: 'odd', options: { ratio: '5:4' }, origin })).rejects.toBeInstanceOf(
      OptionRefused,
    );
    expect((await core.service.list()).total).toBe(0);
  });

  it('a provider that declares no capabilities takes requests without options and refuses any option', async () => {
    const core = await startTestCore({ provider: () => scriptedProvider() });
    cores.push(core);
    await expect(core.service.submit({ prompt: 'wide', options: { ratio: '16:9' }, origin })).rejects.toThrow(
      'the scripted provider cannot set the ratio; leave it out',
    );
    expect((await core.service.submit({ prompt: 'plain', origin })).options).toBeNull();
  });

  it('the same request key with other options is a different request (422-style refusal); the same options → the same task', async () => {
    const core = await startTestCore({ provider: () => recordingProvider() });
    cores.push(core);
    const first = await core.service.submit({ prompt: 'p', options: { ratio: '1:1' }, origin, requestKey: 'k' });
    const same = await core.service.submit({ prompt: 'p', options: { ratio: '1:1' }, origin, requestKey: 'k' });
    expect(same.id).toBe(first.id);
    await expect(
      core.service.submit({ prompt: 'p', options: { ratio: '9:16' }, origin, requestKey: 'k' }),
    ).rejects.toMatchObject({ code: 'REQUEST_KEY_REUSED' });
  });

  it('end to end with the local preview: a 9:16 task ends as a re-hosted 720×1280 MP4', async () => {
    const core = await startTestCore();
    cores.push(core);
    const task = await core.service.submit({ prompt: 'a lighthouse', options: { ratio: '9:16' }, origin });
    const done = await waitFor(() => core.service.get(task.id), finished, 110_000);
    expect(done.status).toBe('completed');
    const probe = await probeVideo(join(core.media.videosDir, done.videoFile!));
    expect(probe).toMatchObject({ width: 720, height: 1280 });
    expect(probe.durationS).toBeCloseTo(5, 0);
  }, 120_000);
});
