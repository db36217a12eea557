/**
 * A provider whose jobs start at once and never finish (until cancelled): for tests and benches that need many
 * tasks in flight without rendering videos.
 */
import { randomUUID } from 'node:crypto';
import type { VideoProvider } from '../../src/providers/provider.js';

export function idleProvider(): VideoProvider {
  return {
    name: 'idle',
    async uploadImage() {
      return { uri: randomUUID() };
    },
    async start() {
      return { id: randomUUID() };
    },
    async poll() {
      return { state: 'running' };
    },
  };
}
