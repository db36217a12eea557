import { afterEach, describe, expect, it, vi } from 'vitest';
import { shortPrompt } from '../src/core/task-log.js';
import { scriptedProvider } from './support/scripted-provider.js';
import { startTestCore, type TestCore } from './support/test-core.js';

let core: TestCore | undefined;
afterEach(async () => {
  await core?.dispose();
  core = undefined;
});

interface Line {
  level: number;
  msg: string;
  [key: string]: unknown;
}
const lines = (c: TestCore): Line[] =>
  c
    .logs()
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Line);
const INFO = 30;
const DEBUG = 20;

describe('#14 the logs tell the story of a task', () => {
  it('created, started upstream, each look (debug), completed with its link and seconds, delivered', async () => {
    const provider = scriptedProvider();
    core = await startTestCore({ provider: () => provider });
    const c = core;
    provider.pollScript.push({ state: 'running' }, { state: 'succeeded', videoUrls: [provider.videoUrl] });
    c.outbox.register('telegram', async () => {});
    const task = await c.service.submit({
      prompt: `a lighthouse in a storm, ${'waves '.repeat(30)}`,
      origin: { platform: 'telegram', userId: '42' },
    });
    await vi.waitFor(() => expect(lines(c).some((l) => l.msg === 'result delivered')).toBe(true), 20_000);
    const story = lines(c).filter((l) => l.taskId === task.id);
    expect(story.map((l) => l.msg)).toEqual([
      'task created',
      'task started upstream',
      'looked: not ready yet',
      'task completed',
      'result delivered',
    ]);
    const [created, started, look, completed, delivered] = story;
    expect(created).toMatchObject({ level: INFO, platform: 'telegram', kind: 't2v' });
    expect(String(created!.prompt)).toMatch(/^a lighthouse in a storm, waves .*…$/);
    expect([...String(created!.prompt)].length).toBe(60);
    expect(started).toMatchObject({ level: INFO, provider: 'scripted' });
    expect(look).toMatchObject({ level: DEBUG, attempts: 1 });
    expect(completed).toMatchObject({ level: INFO, attempts: 2 });
    expect(completed!.link).toMatch(/\/videos\/\S+\.mp4$/);
    expect(completed!.seconds).toBeGreaterThan(0);
    expect(delivered).toMatchObject({ level: INFO, platform: 'telegram' });
  });

  it('a failed task says why', async () => {
    const provider = scriptedProvider();
    core = await startTestCore({ provider: () => provider });
    const c = core;
    provider.pollScript.push({ state: 'failed', reason: 'the prompt was refused upstream', retryable: false });
    const task = await c.service.submit({ prompt: 'refused', origin: { platform: 'http', userId: 'api' } });
    await vi.waitFor(async () => expect((await c.service.get(task.id)).status).toBe('failed'), 20_000);
    expect(lines(c).find((l) => l.taskId === task.id && l.msg === 'task failed')).toMatchObject({
      level: INFO,
      platform: 'http',
      reason: 'the prompt was refused upstream',
    });
  });

  it('cuts prompts to one short line', () => {
    expect(shortPrompt('  two\n lines ')).toBe('two lines');
    expect([...shortPrompt('猫'.repeat(100))]).toHaveLength(60);
  });
});
