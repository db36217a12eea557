/**
 * The core lends each provider a durable state store and an incident channel (`VideoProvider.attach`): values kept
 * there survive a restart, and an incident reaches the core's event bus and the log.
 */
import { describe, expect, it } from 'vitest';
import type { ProviderHost, ProviderIncident, VideoProvider } from '../src/providers/provider.js';
import { startTestCore } from './support/test-core.js';

function attachable(): { provider: VideoProvider; host: () => ProviderHost } {
  let attached: ProviderHost | undefined;
  const provider: VideoProvider = {
    name: 'probe',
    attach: (host) => {
      attached = host;
    },
    uploadImage: async () => ({}),
    start: async () => ({ id: 'job' }),
    poll: async () => ({ state: 'running' }),
  };
  return { provider, host: () => attached! };
}

describe('provider host', () => {
  it('keeps a provider state across a restart, by key and by prefix', async () => {
    const first = attachable();
    const core = await startTestCore({ provider: () => first.provider, keepData: true });
    first.host().state.set('session:a', { state: 'expired', code: '1011' });
    first.host().state.set('session:b', { state: 'ok' });
    first.host().state.set('dialect:a', '2026');
    first.host().state.set('session:a', { state: 'expired', code: '-2001' });
    await core.dispose();

    const second = attachable();
    const again = await startTestCore({ provider: () => second.provider, dataDir: core.dataDir });
    try {
      const state = second.host().state;
      expect(state.get('session:a')).toEqual({ state: 'expired', code: '-2001' });
      expect(state.get('missing')).toBeUndefined();
      expect(state.entries('session:')).toEqual([
        ['session:a', { state: 'expired', code: '-2001' }],
        ['session:b', { state: 'ok' }],
      ]);
    } finally {
      await again.dispose();
    }
  });

  it('passes an incident to the event bus and logs it as a warning', async () => {
    const { provider, host } = attachable();
    const core = await startTestCore({ provider: () => provider });
    try {
      const seen: ProviderIncident[] = [];
      core.service.on('incident', (incident) => seen.push(incident));
      const incident: ProviderIncident = {
        provider: 'probe',
        subject: 'main account',
        kind: 'expired',
        code: '1011',
        message: 'the session is no longer logged in',
        action: 'run `npm run session`',
      };
      host().reportIncident(incident);
      expect(seen).toEqual([incident]);
      expect(core.logs()).toContain('main account: the session is no longer logged in');
    } finally {
      await core.dispose();
    }
  });
});
