/**
 * A Delivery is one message the service owes someone, kept as a row so it survives restarts and outages: a task's
 * final outcome to its asker (`result`, one per outcome and generation of the task), or a provider incident to one
 * admin (`alert`). Lifecycle: `pending` (with its schedule: next try, tries, last error) → `sent` | `superseded`
 * (the task was retried, so that outcome is no longer owed) | `given_up` (the platform refused for good, and why).
 */
import type { ProviderIncident } from '../providers/provider.js';
import type { FinalStatus, Platform } from './task.js';

export type DeliveryKind = 'result' | 'alert';
export type DeliveryState = 'pending' | 'sent' | 'superseded' | 'given_up';

/** One message the service owes: a task's outcome to its asker, or an incident to one admin. */
export interface Delivery {
  id: number;
  kind: DeliveryKind;
  platform: Platform;
  /** `result`: the task, the outcome told and the task's generation when it ended. */
  taskId: string | null;
  outcome: FinalStatus | null;
  generation: number | null;
  /** `alert`: the incident and the admin's id on the platform. */
  incidentId: number | null;
  recipient: string | null;
  state: DeliveryState;
  tries: number;
  nextTryAt: number;
  leaseUntil: number | null;
  claim: number;
  lastError: string | null;
  /** Why the platform's answer was taken as final (bot blocked, chat gone…). */
  givenUpReason: string | null;
  createdAt: string;
  sentAt: string | null;
  doneAt: string | null;
}

/** A provider incident as recorded, with its id and when it was reported. */
export interface RecordedIncident extends ProviderIncident {
  id: number;
  at: string;
}
