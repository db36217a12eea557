import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join } from 'node:path';
import ffmpeg from '@ffmpeg-installer/ffmpeg';
import { request } from 'undici';
import { afterEach, describe, expect, it } from 'vitest';
import { chooseFfmpeg } from '../src/ffmpeg-choice.js';
import { sampleImage } from './support/media-samples.js';
import { type ServiceProcess, spawnService } from './support/service-process.js';

let dir: string;
let service: ServiceProcess | undefined;
afterEach(async () => {
  if (service && service.child.exitCode === null) await service.terminate();
  service = undefined;
  rmSync(dir, { recursive: true, force: true });
});

/** A folder holding an executable `ffmpeg` script that prints `version` (or fails when `version` is undefined). */
function stubFolder(name: string, version: string | undefined): string {
  const folder = join(dir, name);
  mkdirSync(folder, { recursive: true });
  const body = version === undefined ? 'exit 1' : `echo "${version}"`;
  writeFileSync(join(folder, 'ffmpeg'), `#!/bin/sh\n${body}\n`);
  chmodSync(join(folder, 'ffmpeg'), 0o755);
  return folder;
}

describe('#14 which ffmpeg the service runs', () => {
  const packaged = async () => '/packaged/ffmpeg';

  it('prefers the system ffmpeg on PATH over the packaged one', async () => {
    dir = mkdtempSync(join(tmpdir(), 'dvb-ffmpeg-'));
    const system = stubFolder('bin', 'ffmpeg version 7.1.1-1 Copyright (c) 2000-2025');
    const searchPath = ['/nonexistent', system].join(delimiter);
    expect(await chooseFfmpeg({ searchPath, packaged })).toEqual({
      path: join(system, 'ffmpeg'),
      source: 'system',
      version: 'ffmpeg version 7.1.1-1 Copyright (c) 2000-2025',
    });
  });

  it('skips an ffmpeg on PATH that does not run, and falls back to the packaged one', async () => {
    dir = mkdtempSync(join(tmpdir(), 'dvb-ffmpeg-'));
    const broken = stubFolder('broken', undefined);
    const choice = await chooseFfmpeg({ searchPath: broken, packaged });
    expect(choice).toMatchObject({ path: '/packaged/ffmpeg', source: 'packaged' });
  });

  it('FFMPEG_PATH overrides both; with none at all there is no choice', async () => {
    dir = mkdtempSync(join(tmpdir(), 'dvb-ffmpeg-'));
    const system = stubFolder('bin', 'ffmpeg version 7.1.1');
    const chosen = await chooseFfmpeg({ override: '/opt/ffmpeg/bin/ffmpeg', searchPath: system, packaged });
    expect(chosen).toEqual({ path: '/opt/ffmpeg/bin/ffmpeg', source: 'FFMPEG_PATH' });
    expect(await chooseFfmpeg({ searchPath: '', packaged: async () => undefined })).toBeUndefined();
  });

  it('the service says in its log which ffmpeg it uses (a system one on PATH here)', async () => {
    dir = mkdtempSync(join(tmpdir(), 'dvb-ffmpeg-'));
    const system = stubFolder('bin', 'ffmpeg version 7.1.1-stub');
    service = spawnService(dir, { PATH: `${system}${delimiter}${process.env.PATH ?? ''}` });
    const line = await service.waitForLog(/^using the \w+ ffmpeg$/);
    expect(line).toMatchObject({
      msg: 'using the system ffmpeg',
      path: join(system, 'ffmpeg'),
      version: 'ffmpeg version 7.1.1-stub',
    });
  });

  it('without a system ffmpeg the service uses the packaged one and says so', async () => {
    dir = mkdtempSync(join(tmpdir(), 'dvb-ffmpeg-'));
    // A PATH with node's folder only: no system ffmpeg, wherever the suite runs.
    service = spawnService(dir, { PATH: dirname(process.execPath) });
    const line = await service.waitForLog(/^using the \w+ ffmpeg$/);
    expect(line.msg).toBe('using the packaged ffmpeg');
    expect(String(line.version)).toMatch(/^ffmpeg version/);
  });

  it('the core checks images with the chosen system ffmpeg too, not the packaged one', async () => {
    dir = mkdtempSync(join(tmpdir(), 'dvb-ffmpeg-'));
    // A "system" ffmpeg that notes each run's arguments, then runs the real binary.
    const folder = join(dir, 'system-bin');
    const calls = join(dir, 'calls.log');
    mkdirSync(folder);
    writeFileSync(join(folder, 'ffmpeg'), `#!/bin/sh\necho "$*" >> '${calls}'\nexec '${ffmpeg.path}' "$@"\n`);
    chmodSync(join(folder, 'ffmpeg'), 0o755);
    service = spawnService(dir, { PATH: `${folder}${delimiter}${process.env.PATH ?? ''}` });
    const base = await service.baseUrl();
    const res = await request(`${base}/api/file/upload?file_type=2&file_name=cat.jpg`, {
      method: 'POST',
      headers: { 'content-type': 'application/octet-stream' },
      body: sampleImage('jpg'),
    });
    expect(res.statusCode).toBe(200);
    await res.body.text();
    const runs = existsSync(calls) ? readFileSync(calls, 'utf8').trim().split('\n') : [];
    // The upload was decoded (the core's image check) by the system ffmpeg.
    expect(runs.filter((args) => args.includes(join(dir, 'uploads')))).toHaveLength(1);
  }, 30_000);
});
