/**
 * Reading a video request's SSE answer in either dialect, with `eventsource-parser`. The 2025 shape (protocol
 * §4): `data:` lines of `{event_type, event_data}`, 2002 carrying the ids. The 2026 shape (§8): named frames,
 * `SSE_ACK` carrying `ack_client_meta.{conversation_id, section_id}` and perhaps a `question_id`. Heartbeats, text chunks and
 * frames neither reader knows are skipped; error frames were already sorted out by `classifyAnswer`.
 */
import { createParser } from 'eventsource-parser';

export interface ConversationIds {
  conversationId: string;
  /** Absent in the 2026 acknowledgement: the caller uses the message id it sent. */
  messageId?: string;
  sectionId: string;
}

export interface StreamReading {
  /** Which frame shape the stream used; `unknown` when no frame of either was seen. */
  shape: '2025' | '2026' | 'unknown';
  ids?: ConversationIds;
  /** A guest session's quota is used up ("tourist conversation reach limited"). */
  guestUsedUp: boolean;
}

const EVENT_STREAM_START = 2002;
const FRAMES_2026 = new Set(['SSE_ACK', 'STREAM_CHUNK', 'STREAM_ERROR', 'SSE_REPLY_END', 'SSE_HEARTBEAT']);
const GUEST_USED_UP = 'tourist conversation reach limited';

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

const idText = (v: unknown) => (typeof v === 'string' || typeof v === 'number' ? String(v) : '');

/** The ids in a 2025 stream start's `event_data` (itself a JSON string). */
function idsOf2002(eventData: unknown): ConversationIds | undefined {
  const data = safeJson(typeof eventData === 'string' ? eventData : '') as Record<string, unknown> | undefined;
  const conversationId = idText(data?.conversation_id);
  const messageId = idText(data?.message_id);
  if (!conversationId || !messageId) return undefined;
  return { conversationId, messageId, sectionId: idText(data?.section_id) };
}

/** The ids in a 2026 `SSE_ACK` frame. */
function idsOfAck(data: Record<string, unknown> | undefined): ConversationIds | undefined {
  const meta = (data?.ack_client_meta ?? {}) as Record<string, unknown>;
  const conversationId = idText(meta.conversation_id);
  if (!conversationId) return undefined;
  // The acknowledgement names the user's message `question_id` (in a capture of 2026-07), if at all.
  const messageId = idText(meta.message_id ?? data?.message_id ?? meta.question_id ?? data?.question_id);
  return { conversationId, sectionId: idText(meta.section_id), ...(messageId && { messageId }) };
}

/** Reads a whole (or cut-off) SSE body: its shape, the ids of the job it started and a used-up guest. */
export function readVideoStream(body: string): StreamReading {
  const reading: StreamReading = { shape: 'unknown', guestUsedUp: false };
  const parser = createParser({
    onEvent: (event) => {
      if (event.data.includes(GUEST_USED_UP)) reading.guestUsedUp = true;
      const data = safeJson(event.data) as Record<string, unknown> | undefined;
      if (event.event && FRAMES_2026.has(event.event)) {
        reading.shape = '2026';
        if (event.event === 'SSE_ACK') reading.ids ??= idsOfAck(data);
        return;
      }
      if (typeof data?.event_type !== 'number') return; // a heartbeat, a comment or a frame nobody knows
      if (reading.shape === 'unknown') reading.shape = '2025';
      if (data.event_type === EVENT_STREAM_START) reading.ids ??= idsOf2002(data.event_data);
    },
  });
  parser.feed(body);
  return reading;
}
