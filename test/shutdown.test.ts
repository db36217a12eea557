/**
 * The shutdown order (issue 12, case 16): chat adapters side by side, then the HTTP API, then the core. One chat
 * adapter failing to stop, or never finishing its stop, does not keep the other parts running.
 */
import { describe, expect, it } from 'vitest';
import { stopAll } from '../src/shutdown.js';
import { memoryLogger } from './support/test-core.js';

function part(name: string, events: string[], behaviour: 'ok' | 'throws' | 'hangs' = 'ok') {
  return {
    name,
    async stop(): Promise<void> {
      events.push(`${name} stopping`);
      if (behaviour === 'throws') throw new Error(`${name} could not close its socket`);
      if (behaviour === 'hangs') return new Promise(() => {});
      await new Promise((resolve) => setTimeout(resolve, 20));
      events.push(`${name} stopped`);
    },
  };
}

describe('16. stopping the service', () => {
  it('a chat adapter failing to stop is logged, and the other adapter, the HTTP API and the core still stop', async () => {
    const events: string[] = [];
    const { log, text } = memoryLogger();
    await stopAll(
      {
        chats: [part('discord', events, 'throws'), part('telegram', events)],
        http: part('http', events),
        core: part('core', events),
      },
      log,
    );
    expect(events).toEqual([
      'discord stopping',
      'telegram stopping',
      'telegram stopped',
      'http stopping',
      'http stopped',
      'core stopping',
      'core stopped',
    ]);
    expect(text()).toContain('stopping discord failed');
  });

  it('a chat adapter whose stop never ends is left behind after the grace period', async () => {
    const events: string[] = [];
    const { log, text } = memoryLogger();
    const started = performance.now();
    await stopAll(
      { chats: [part('telegram', events, 'hangs')], http: part('http', events), core: part('core', events) },
      log,
      100,
    );
    expect(performance.now() - started).toBeLessThan(2000);
    expect(events.at(-1)).toBe('core stopped');
    expect(text()).toContain('telegram did not stop within 0.1 s; stopping the rest anyway');
  });
});
