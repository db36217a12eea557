/**
 * The PostgreSQL store's admin page sessions (issue 16; SQLite's are in store.ts): kept in the database by the hash of
 * their id, so whichever process a load balancer picks knows a signed-in operator.
 */
import { MAX_ADMIN_SESSIONS } from '../store.js';
import { type PgContext, transaction } from './postgres-db.js';

/** Keeps a session until `expiresAt`; drops expired ones, and all but the newest `MAX_ADMIN_SESSIONS`. */
export async function keepAdminSession(db: PgContext, idHash: string, csrf: string, expiresAt: number): Promise<void> {
  await transaction(db, async (client) => {
    await client.query('DELETE FROM admin_sessions WHERE expires_at <= $1', [db.now()]);
    await client.query(
      `INSERT INTO admin_sessions (id_hash, csrf, expires_at) VALUES ($1, $2, $3)
         ON CONFLICT (id_hash) DO UPDATE SET csrf = excluded.csrf, expires_at = excluded.expires_at`,
      [idHash, csrf, expiresAt],
    );
    await client.query(
      `DELETE FROM admin_sessions WHERE id_hash NOT IN
         (SELECT id_hash FROM admin_sessions ORDER BY expires_at DESC, id_hash COLLATE "C" LIMIT $1)`,
      [MAX_ADMIN_SESSIONS],
    );
  });
}

/** The session with this id hash, unless it expired or ended. */
export async function adminSession(
  db: PgContext,
  idHash: string,
): Promise<{ csrf: string; expiresAt: number } | undefined> {
  const { rows } = await db.pool.query<{ csrf: string; expires_at: number }>(
    'SELECT csrf, expires_at FROM admin_sessions WHERE id_hash = $1 AND expires_at > $2',
    [idHash, db.now()],
  );
  const row = rows[0];
  return row && { csrf: row.csrf, expiresAt: Number(row.expires_at) };
}

export async function endAdminSession(db: PgContext, idHash: string): Promise<void> {
  await db.pool.query('DELETE FROM admin_sessions WHERE id_hash = $1', [idHash]);
}
