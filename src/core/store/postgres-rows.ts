/**
 * Rows of the PostgreSQL store ↔ the core's objects (Task, Delivery, RecordedIncident), and the pool's type parsers:
 * BIGINT columns (epoch milliseconds, tokens, ids, counts) come back as JS numbers — every value they hold is far
 * below 2^53 — instead of pg's default strings. JSONB comes back parsed; values going into it are stringified here
 * (pg would turn a JS array into a PostgreSQL array, not JSON).
 */
import pg from 'pg';
import type { Task } from '../task.js';
import { FIELD_TO_COLUMN, TASK_COLUMNS } from './task-columns.js';

export type Row = Record<string, unknown>;

const INT8_OID = 20;

/** Type parsers for a Pool: BIGINT as number, the rest as pg parses them. */
export const PG_TYPES = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
    oid === INT8_OID ? (value: string) => Number(value) : pg.types.getTypeParser(oid, format)) as never,
};

/** The columns a partial task writes, with the derived ones (platform, user_id, upstream_id, a released owner). */
export function toRow(fields: Partial<Task>): Row {
  const row: Row = {};
  for (const [key, value] of Object.entries(fields)) {
    const col = FIELD_TO_COLUMN.get(key);
    if (!col || value === undefined) continue;
    row[col] = TASK_COLUMNS[col]!.json ? (value === null ? null : JSON.stringify(value)) : value;
  }
  if (fields.origin) {
    row.platform = fields.origin.platform;
    row.user_id = fields.origin.userId;
  }
  if ('upstream' in fields) row.upstream_id = fields.upstream?.id ?? null;
  if (fields.leaseUntil === null) row.lease_owner = null;
  return row;
}

export function fromRow(row: Row): Task {
  const task: Record<string, unknown> = {};
  for (const [col, spec] of Object.entries(TASK_COLUMNS)) task[spec.field] = row[col] ?? null;
  task.guest = !!row.guest;
  task.upstreamEnded = !!row.upstream_ended;
  task.videoUrls = row.video_urls ?? [];
  return task as unknown as Task;
}

/** `(a, b, c)` and `($1, $2, $3)` for an INSERT of `row`, and its values. */
export function insertParts(row: Row): { columns: string; placeholders: string; values: unknown[] } {
  const columns = Object.keys(row);
  return {
    columns: columns.join(', '),
    placeholders: columns.map((_, i) => `$${i + 1}`).join(', '),
    values: Object.values(row),
  };
}
