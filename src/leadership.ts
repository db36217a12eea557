/**
 * What leads a role among several processes sharing a database (Telegram's polling: exactly one process may call
 * getUpdates). main.ts builds it from a PostgreSQL advisory lock (src/core/store/postgres-leader.ts) when
 * DATABASE_URL is set; adapters only see this shape.
 */
export interface Leadership {
  /** Stops leading (or trying to) and lets the role go. */
  stop(): Promise<void>;
}

/**
 * Runs `lead` whenever this process becomes the leader of `role`; its `signal` aborts when it stops being the leader
 * (its database connection lost, `stop()`), and another process takes over within seconds.
 */
export type LeadRole = (role: string, lead: (signal: AbortSignal) => void | Promise<void>) => Leadership;
