/**
 * The shutdown order (issue 12, case 16): chat adapters side by side, then the HTTP API, then the core, then the
 * cluster's upstream limiter (issue 16). One chat adapter failing to stop, or never finishing its stop, does not keep
 * the other parts running; neither does a core failing to stop keep the limiter open.
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

  it('the upstream limiter is closed after the core, also when the core fails to stop; its failure is logged', async () => {
    const events: string[] = [];
    const { log, text } = memoryLogger();
    const limiter = (behaviour: 'ok' | 'throws') => {
      const stopping = part('upstream limiter', events, behaviour);
      return { close: () => stopping.stop() };
    };
    await stopAll({ chats: [], core: part('core', events, 'throws'), limiter: limiter('ok') }, log);
    expect(events).toEqual(['core stopping', 'upstream limiter stopping', 'upstream limiter stopped']);
    expect(text()).toContain('stopping core failed');

    events.length = 0;
    await stopAll({ chats: [], core: part('core', events), limiter: limiter('throws') }, log);
    expect(events).toEqual(['core stopping', 'core stopped', 'upstream limiter stopping']);
    expect(text()).toContain('stopping upstream limiter failed');
  });
});
