import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { sampleImage } from './support/media-samples.js';
import { startTestApi, type TestApi } from './support/test-api.js';

let api: TestApi | undefined;
let demo: ChildProcessWithoutNullStreams | undefined;

afterEach(async () => {
  demo?.kill();
  await api?.close();
});

/** Drives the demo like a person: waits for each prompt on screen, then types the answer. */
function converse(child: ChildProcessWithoutNullStreams, script: [RegExp, string][]): Promise<string> {
  let screen = '';
  let step = 0;
  let answeredAt = 0; // only output after the last answer may match the next prompt
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the demo stalled at step ${step}:\n${screen}`)), 25_000);
    child.on('exit', () => clearTimeout(timer));
    child.stdout.on('data', (chunk: Buffer) => {
      screen += chunk.toString();
      if (step < script.length && script[step]![0].test(screen.slice(answeredAt))) {
        child.stdin.write(`${script[step]![1]}\n`);
        step += 1;
        answeredAt = screen.length;
      }
    });
    child.stderr.on('data', (chunk: Buffer) => {
      screen += chunk.toString();
    });
    child.on('exit', (code) => (code === 0 ? resolve(screen) : reject(new Error(`demo exited ${code}:\n${screen}`))));
  });
}

it('npm run demo walks the seed menu: image-to-video, text-to-video, status, list, quit', async () => {
  api = await startTestApi();
  const { core, base } = api;
  const image = join(mkdtempSync(join(tmpdir(), 'dvb-demo-')), 'photo.png');
  writeFileSync(image, sampleImage('png'));

  demo = spawn(process.execPath, ['--import', 'tsx', 'adapters/cli/index.ts', '--api', base, '--poll-s', '0.5'], {
    env: { ...process.env, DATA_DIR: core.dataDir, PORT: '0' },
  });
  const choose = /choose \(1-5\): $/;
  const screen = await converse(demo, [
    [choose, '1'],
    [/image path: $/, image],
    [/prompt \[.*\]: $/, ''],
    [/\(y\/n\): $/, 'y'],
    [choose, '2'],
    [/prompt: $/, 'a kite over green hills'],
    [/\(y\/n\): $/, 'n'],
    [choose, '9'],
    [choose, '3'],
    [/conversation_id: $/, '123'],
    [/message_id: $/, '456'],
    [choose, '4'],
    [choose, '5'],
  ]);
  expect(screen).toContain('uploaded:');
  expect(screen).toMatch(/completed \| attempts \d+\/30 \| [\d.]+ min waited/);
  expect(screen).toMatch(/video ready:\n {2}http:\/\/\S+\/videos\/\S+\.mp4/);
  expect(screen).toContain('unknown choice');
  expect(screen).toContain('error: 未找到该视频任务');
  expect(screen).toContain('2 tasks');
  const list = await core.service.list();
  expect(list.tasks.map((t) => t.kind).sort()).toEqual(['i2v', 't2v']);
  expect(list.tasks.find((t) => t.kind === 't2v')?.prompt).toBe('a kite over green hills');
});
