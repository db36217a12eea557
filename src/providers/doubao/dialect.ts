/**
 * Which dialect of the Doubao web protocol each session speaks ('2025': protocol §4, '2026': §8), remembered in
 * the provider's durable state (`dialect:<session id>`) so a restart does not probe again.
 */
import type { ProviderStateStore } from '../provider.js';
import { memoryState } from './memory-state.js';

export type Dialect = '2025' | '2026';

export class DialectMemory {
  #store: ProviderStateStore = memoryState();

  attach(store: ProviderStateStore): void {
    this.#store = store;
  }

  get(sessionId: string): Dialect | undefined {
    return this.#store.get<Dialect>(`dialect:${sessionId}`);
  }

  set(sessionId: string, dialect: Dialect): void {
    if (this.get(sessionId) !== dialect) this.#store.set(`dialect:${sessionId}`, dialect);
  }
}
