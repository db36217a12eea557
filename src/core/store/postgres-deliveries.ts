/**
 * Deliveries and incidents in the PostgreSQL store (see the "Deliveries" block of src/core/store.ts for what they
 * mean). Several processes send: a claim picks due rows with `FOR UPDATE SKIP LOCKED`, names this process as the
 * row's lease owner and bumps `claim`, so exactly one process sends each row, and a sender whose claim was taken
 * over cannot reschedule or give up the row. Incidents of one subject are recorded under an advisory lock, so two
 * processes reporting the same incident at once record (and alert) it once.
 */
import type { ProviderIncident } from '../../providers/provider.js';
import type { Delivery, DeliveryKind, RecordedIncident } from '../delivery.js';
import type { Platform, Task } from '../task.js';
import { deliveryFromRow, incidentFromRow } from './outbox-rows.js';
import { iso, LOCK_INCIDENT, type PgContext, type Queryable, transaction } from './postgres-db.js';
import { fromRow, type Row } from './postgres-rows.js';

const DELIVERY_KINDS: readonly DeliveryKind[] = ['result', 'alert'];

/** The typed kinds a query may ask for (checked: they travel as a parameter, but only known ones are meant). */
const validKinds = (kinds: readonly DeliveryKind[]) => kinds.filter((k) => DELIVERY_KINDS.includes(k));

/** Final tasks of a platform whose asker was not yet told the current outcome, oldest first. */
export async function undelivered(q: Queryable, platform: Platform): Promise<Task[]> {
  const { rows } = await q.query<Row>(
    `SELECT t.* FROM deliveries d JOIN tasks t ON t.id = d.task_id AND t.generation = d.generation
       WHERE d.state = 'pending' AND d.kind = 'result' AND d.platform = $1 ORDER BY d.id`,
    [platform],
  );
  return rows.map(fromRow);
}

/** Claims up to `limit` due deliveries of a platform for this process, skipping rows another one is claiming. */
export async function claimDeliveries(
  db: PgContext,
  platform: Platform,
  kinds: readonly DeliveryKind[],
  leaseMs: number,
  limit: number,
): Promise<Delivery[]> {
  const now = db.now();
  const { rows } = await db.pool.query<Row>(
    `WITH due AS (
       SELECT id FROM deliveries
        WHERE state = 'pending' AND platform = $1 AND kind = ANY($2::text[])
          AND next_try_at <= $3 AND (lease_until IS NULL OR lease_until < $3)
        ORDER BY next_try_at, id LIMIT $4 FOR UPDATE SKIP LOCKED)
     UPDATE deliveries d SET lease_until = $3 + $5::bigint, lease_owner = $6, claim = d.claim + 1
       FROM due WHERE d.id = due.id RETURNING d.*`,
    [platform, validKinds(kinds), now, limit, leaseMs, db.owner],
  );
  return rows.map(deliveryFromRow).sort((a, b) => a.nextTryAt - b.nextTryAt || a.id - b.id);
}

/** Epoch ms when the next delivery of a platform is due (its next try, or its lapsing lease); undefined if none. */
export async function nextDeliveryAt(
  db: PgContext,
  platform: Platform,
  kinds: readonly DeliveryKind[],
): Promise<number | undefined> {
  const { rows } = await db.pool.query<{ at: number | null }>(
    `SELECT min(CASE WHEN lease_until >= $1 THEN lease_until + 1 ELSE next_try_at END) AS at FROM deliveries
       WHERE state = 'pending' AND platform = $2 AND kind = ANY($3::text[])`,
    [db.now(), platform, validKinds(kinds)],
  );
  return rows[0]?.at ?? undefined;
}

/** Records that a delivery went out (see TaskStore.deliverySent); whether the row was marked sent. */
export async function deliverySent(db: PgContext, id: number): Promise<boolean> {
  const at = iso(db);
  return transaction(db, async (client) => {
    const { rows } = await client.query<Row>('SELECT * FROM deliveries WHERE id = $1 FOR UPDATE', [id]);
    if (!rows[0]) return false;
    const row = deliveryFromRow(rows[0]);
    const told = row.state === 'pending';
    await client.query(
      `UPDATE deliveries SET sent_at = $1, lease_until = NULL, lease_owner = NULL, done_at = coalesce(done_at, $1),
         state = CASE state WHEN 'pending' THEN 'sent' ELSE state END WHERE id = $2`,
      [at, id],
    );
    if (told && row.kind === 'result') {
      await client.query(
        `UPDATE tasks SET delivered_at = $1
           WHERE id = $2 AND generation = $3 AND status = $4 AND delivered_at IS NULL`,
        [at, row.taskId, row.generation, row.outcome],
      );
    }
    return told;
  });
}

/** A send failed for now: counts the try, keeps the error, schedules the next. False when the claim was lost. */
export async function deliveryFailed(
  db: PgContext,
  id: number,
  claim: number,
  error: string,
  nextTryAt: number,
): Promise<boolean> {
  const { rowCount } = await db.pool.query(
    `UPDATE deliveries SET tries = tries + 1, last_error = $1, next_try_at = $2, lease_until = NULL, lease_owner = NULL
       WHERE id = $3 AND claim = $4 AND state = 'pending'`,
    [error, nextTryAt, id, claim],
  );
  return rowCount === 1;
}

/** The platform refused for good: the row ends, with why. False when the claim was lost. */
export async function deliveryGivenUp(db: PgContext, id: number, claim: number, reason: string): Promise<boolean> {
  const { rowCount } = await db.pool.query(
    `UPDATE deliveries SET state = 'given_up', tries = tries + 1, given_up_reason = $1, last_error = $1,
       lease_until = NULL, lease_owner = NULL, done_at = $2 WHERE id = $3 AND claim = $4 AND state = 'pending'`,
    [reason, iso(db), id, claim],
  );
  return rowCount === 1;
}

/** The outcome a row tells is no longer the task's: the row ends unsent. */
export async function deliverySuperseded(db: PgContext, id: number): Promise<void> {
  await db.pool.query(
    `UPDATE deliveries SET state = 'superseded', lease_until = NULL, lease_owner = NULL, done_at = $1
       WHERE id = $2 AND state = 'pending'`,
    [iso(db), id],
  );
}

/**
 * Frees the delivery leases of owners that are gone (no live heartbeat); other live processes keep theirs.
 * Returns how many were freed.
 */
export async function releaseDeliveryLeases(db: PgContext): Promise<number> {
  const { rowCount } = await db.pool.query(
    `UPDATE deliveries SET lease_until = NULL, lease_owner = NULL
       WHERE state = 'pending' AND lease_until IS NOT NULL
         AND (lease_owner IS NULL OR lease_owner NOT IN (SELECT id FROM owners WHERE heartbeat_at >= $1))`,
    [db.now() - db.ownerTimeoutMs],
  );
  return rowCount ?? 0;
}

/** Moves every waiting retry of a platform to now (the platform answered again after an outage). */
export async function expediteDeliveries(db: PgContext, platform: Platform): Promise<number> {
  const now = db.now();
  const { rowCount } = await db.pool.query(
    `UPDATE deliveries SET next_try_at = $1
       WHERE state = 'pending' AND platform = $2 AND tries > 0 AND next_try_at > $1`,
    [now, platform],
  );
  return rowCount ?? 0;
}

export async function delivery(q: Queryable, id: number): Promise<Delivery | undefined> {
  const { rows } = await q.query<Row>('SELECT * FROM deliveries WHERE id = $1', [id]);
  return rows[0] && deliveryFromRow(rows[0]);
}

/** Deliveries of one task or of one incident, oldest first. */
export async function deliveries(q: Queryable, of: { taskId: string } | { incidentId: number }): Promise<Delivery[]> {
  const { rows } =
    'taskId' in of
      ? await q.query<Row>('SELECT * FROM deliveries WHERE task_id = $1 ORDER BY id', [of.taskId])
      : await q.query<Row>('SELECT * FROM deliveries WHERE incident_id = $1 ORDER BY id', [of.incidentId]);
  return rows.map(deliveryFromRow);
}

/**
 * Records a provider incident and one alert per recipient, in one transaction under the subject's lock. A repeat of
 * the subject's latest state, or a recovery with no incident before it, is not new: undefined, nothing queued.
 */
export async function recordIncident(
  db: PgContext,
  incident: ProviderIncident,
  recipients: readonly { platform: Platform; recipient: string }[],
): Promise<RecordedIncident | undefined> {
  return transaction(db, async (client) => {
    await client.query('SELECT pg_advisory_xact_lock($1, hashtext($2))', [
      LOCK_INCIDENT,
      JSON.stringify([incident.provider, incident.subject]),
    ]);
    const { rows: last } = await client.query<{ kind: string; code: string | null }>(
      'SELECT kind, code FROM incidents WHERE provider = $1 AND subject = $2 ORDER BY id DESC LIMIT 1',
      [incident.provider, incident.subject],
    );
    const repeated = last[0]
      ? last[0].kind === incident.kind && last[0].code === (incident.code ?? null)
      : incident.kind === 'recovered';
    if (repeated) return undefined;
    const at = iso(db);
    const { rows } = await client.query<Row>(
      `INSERT INTO incidents (provider, subject, kind, code, message, action, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING *`,
      [
        incident.provider,
        incident.subject,
        incident.kind,
        incident.code ?? null,
        incident.message,
        incident.action ?? null,
        at,
      ],
    );
    const recorded = incidentFromRow(rows[0]!);
    for (const { platform, recipient } of recipients) {
      await client.query(
        `INSERT INTO deliveries (kind, platform, incident_id, recipient, next_try_at, created_at)
           VALUES ('alert', $1, $2, $3, $4, $5) ON CONFLICT DO NOTHING`,
        [platform, recorded.id, recipient, db.now(), at],
      );
    }
    return recorded;
  });
}

export async function incident(q: Queryable, id: number): Promise<RecordedIncident | undefined> {
  const { rows } = await q.query<Row>('SELECT * FROM incidents WHERE id = $1', [id]);
  return rows[0] && incidentFromRow(rows[0]);
}
