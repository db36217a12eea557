/**
 * Rows of the `deliveries` and `incidents` tables → the core's Delivery and RecordedIncident, the same for the
 * SQLite and the PostgreSQL store (both hand over plain column → value objects).
 */
import type { ProviderIncident } from '../../providers/provider.js';
import type { Delivery, DeliveryKind, DeliveryState, RecordedIncident } from '../delivery.js';
import type { FinalStatus, Platform } from '../task.js';

type Row = Record<string, unknown>;

export function deliveryFromRow(row: Row): Delivery {
  const text = (v: unknown) => (v === null || v === undefined ? null : String(v));
  const num = (v: unknown) => (v === null || v === undefined ? null : Number(v));
  return {
    id: Number(row.id),
    kind: row.kind as DeliveryKind,
    platform: row.platform as Platform,
    taskId: text(row.task_id),
    outcome: text(row.outcome) as FinalStatus | null,
    generation: num(row.generation),
    incidentId: num(row.incident_id),
    recipient: text(row.recipient),
    state: row.state as DeliveryState,
    tries: Number(row.tries),
    nextTryAt: Number(row.next_try_at),
    leaseUntil: num(row.lease_until),
    claim: Number(row.claim),
    lastError: text(row.last_error),
    givenUpReason: text(row.given_up_reason),
    createdAt: String(row.created_at),
    sentAt: text(row.sent_at),
    doneAt: text(row.done_at),
  };
}

export function incidentFromRow(row: Row): RecordedIncident {
  return {
    id: Number(row.id),
    provider: String(row.provider),
    subject: String(row.subject),
    kind: row.kind as ProviderIncident['kind'],
    ...(row.code !== null && { code: String(row.code) }),
    message: String(row.message),
    ...(row.action !== null && { action: String(row.action) }),
    at: String(row.created_at),
  };
}
