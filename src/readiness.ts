/**
 * What `GET /readyz` reports: whether every configured part of the service is up — the database takes writes, the
 * provider can take work, each chat adapter is connected — and, for each part that is not, why. `/healthz` stays
 * the liveness check (the process answers); this one says whether it can do its job.
 */
import type { AdapterSupervisor } from './adapter-supervisor.js';
import type { VideoProvider } from './providers/provider.js';

export interface ReadinessPart {
  ready: boolean;
  [detail: string]: unknown;
}

export interface Readiness {
  /** True only when every part is ready. */
  ready: boolean;
  parts: Record<string, ReadinessPart>;
}

export interface ReadinessDeps {
  /** A write that rejects when the database takes none (`TaskStoreAsync.probeWrite`). */
  probeWrite(): Promise<void>;
  provider: Pick<VideoProvider, 'name' | 'ready'>;
  adapters: readonly Pick<AdapterSupervisor, 'name' | 'status'>[];
  /** Probes closer together than this reuse the last answer, so a flood of probes is not a flood of writes. */
  probeIntervalMs?: number;
  /** A database that has not taken the probe's write by then is not ready (a PostgreSQL server gone quiet). */
  probeTimeoutMs?: number;
  now?: () => number;
}

export function createReadiness(deps: ReadinessDeps): () => Promise<Readiness> {
  const now = deps.now ?? Date.now;
  const interval = deps.probeIntervalMs ?? 1000;
  const timeoutMs = deps.probeTimeoutMs ?? 5000;
  let database: { part: ReadinessPart; at: number } | undefined;

  const probeDatabase = async (): Promise<ReadinessPart> => {
    if (database && now() - database.at < interval) return database.part;
    let part: ReadinessPart;
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        deps.probeWrite(),
        new Promise((_, reject) => {
          timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs / 1000} s`)), timeoutMs);
        }),
      ]);
      part = { ready: true };
    } catch (err) {
      const { code, message } = err as { code?: unknown; message?: unknown };
      part = { ready: false, error: `${typeof code === 'string' ? `${code}: ` : ''}${String(message ?? err)}` };
    } finally {
      clearTimeout(timer);
    }
    database = { part, at: now() };
    return part;
  };

  return async () => {
    const provider = askProvider(deps.provider);
    const parts: Record<string, ReadinessPart> = {
      database: await probeDatabase(),
      provider: { name: deps.provider.name, ...provider },
    };
    for (const adapter of deps.adapters) {
      const status = adapter.status();
      parts[adapter.name] = { ready: status.state === 'up', ...status };
    }
    return { ready: Object.values(parts).every((p) => p.ready), parts };
  };
}

/** A provider whose readiness check throws is not ready, and says why, rather than failing the whole probe. */
function askProvider(provider: ReadinessDeps['provider']): { ready: boolean; reason?: string } {
  try {
    return provider.ready?.() ?? { ready: true };
  } catch (err) {
    return { ready: false, reason: `its readiness check failed: ${String((err as Error)?.message ?? err)}` };
  }
}
