/**
 * What the admin web page needs beyond the HTTP adapter's deps: the store's read methods (only those, each answering a Promise; every write
 * goes through the service, as for the bots) and the provider's operator-facing parts (health, slots, re-check).
 */
import type { TaskStoreAsync } from '../../src/core/index.js';
import type { VideoProvider } from '../../src/providers/provider.js';
import type { HttpDeps } from '../http/deps.js';
import type { AdminSessionStore } from './auth.js';

export type AdminReads = Pick<
  TaskStoreAsync,
  | 'taskEvents'
  | 'tasksPerDay'
  | 'timeToVideo'
  | 'failingDeliveries'
  | 'liveTasksByUpstreamField'
  | 'searchTasks'
  | 'countRunning'
>;

export interface AdminSources {
  reads: AdminReads;
  /** Where sign-in sessions are kept (the store), so every process sharing the database knows them. */
  sessions: AdminSessionStore;
  provider: Pick<VideoProvider, 'name' | 'maxRunning' | 'status' | 'recheck'>;
  /** The core's clock (a test's fake one), for "the last 14 days" and cool-downs left. @defaultValue Date.now */
  now?: () => number;
}

export type WebDeps = HttpDeps & AdminSources;
