/**
 * The provider's state store when nobody attached it to the core (a unit test, a bench): the same interface as
 * the durable one, kept in memory and forgotten on restart.
 */
import type { ProviderStateStore } from '../provider.js';

export function memoryState(): ProviderStateStore {
  const values = new Map<string, unknown>();
  return {
    get: <T>(key: string) => values.get(key) as T | undefined,
    set: (key, value) => void values.set(key, value),
    entries: <T>(prefix: string) => [...values.entries()].filter(([key]) => key.startsWith(prefix)) as [string, T][],
  };
}
