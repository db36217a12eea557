/**
 * Asking Doubao for a video, protocol §4: one chat completion with `content_type: 2020`, answered with
 * server-sent events parsed by `eventsource-parser`. The 2002 event carries the conversation's ids; gateway
 * errors, rate limits (2005) and a used-up guest become typed errors. Once 2002 has arrived the video is being
 * made upstream, so a stream cut off or garbled after it still returns the ids rather than start a second video.
 */
import { randomInt, randomUUID } from 'node:crypto';
import { createParser, type EventSourceMessage } from 'eventsource-parser';
import { UpstreamError } from '../../core/errors.js';
import type { Session, SessionPool } from './session-pool.js';
import type { Attachment } from './upload.js';
import type { WebClient } from './web-client.js';

export const VIDEO_CONTENT_TYPE = 2020;
const EVENT_STREAM_START = 2002;
const GUEST_USED_UP = 'tourist conversation reach limited';
const WHAT = 'video request';

export interface ConversationIds {
  conversationId: string;
  messageId: string;
  sectionId: string;
}

function requestBody(session: Session, prompt: string, attachments: Attachment[]): string {
  return JSON.stringify({
    completion_option: {
      is_regen: false,
      with_suggest: false,
      need_create_conversation: true,
      launch_stage: 1,
      use_auto_cot: false,
      use_deep_think: false,
    },
    conversation_id: '0',
    messages: [
      { content: JSON.stringify({ text: prompt }), content_type: VIDEO_CONTENT_TYPE, attachments, references: [] },
    ],
    ...(!session.guest && {
      local_conversation_id: `local_${String(randomInt(10 ** 8)).padStart(8, '0')}${String(randomInt(10 ** 8)).padStart(8, '0')}`,
      local_message_id: randomUUID(),
    }),
  });
}

/** Sends the video request and reads the stream; resolves with the new conversation's ids. */
export async function requestVideo(
  client: WebClient,
  pool: SessionPool,
  session: Session,
  prompt: string,
  attachments: Attachment[],
): Promise<ConversationIds> {
  const answer = await client.call(session, {
    kind: 'completion',
    method: 'POST',
    path: '/samantha/chat/completion',
    headers: {
      'content-type': 'application/json',
      accept: 'text/event-stream',
      'agw-js-conv': 'str',
      'x-flow-trace': session.x_flow_trace,
    },
    body: requestBody(session, prompt, attachments),
    what: WHAT,
  });
  const outcome = readStream(answer.body);
  if (outcome.guestUsedUp) {
    await pool.drop(session);
    throw new UpstreamError('the Doubao guest session is used up and was removed; trying another later', true);
  }
  if (outcome.ids) return outcome.ids;
  if (answer.broken) throw new UpstreamError(`${WHAT}: the stream broke off (${answer.broken.message})`, true);
  throw outcome.failure ?? new UpstreamError(`${WHAT}: the stream ended before Doubao created the conversation`, true);
}

/**
 * Reads the SSE answer (Doubao's error frames were already sorted out by `classifyAnswer`): the ids of the stream
 * start, a used-up guest, or the failure an unreadable stream means.
 */
function readStream(body: string): { ids?: ConversationIds; guestUsedUp: boolean; failure?: UpstreamError } {
  let ids: ConversationIds | undefined;
  let guestUsedUp = false;
  let failure: UpstreamError | undefined;
  const onEvent = (event: EventSourceMessage) => {
    if (event.data.includes(GUEST_USED_UP)) guestUsedUp = true;
    const outer = safeJson(event.data) as { event_type?: unknown; event_data?: unknown } | undefined;
    if (!outer || typeof outer.event_type !== 'number') {
      failure ??= new UpstreamError(`${WHAT}: Doubao sent an unreadable event`, true);
      return;
    }
    if (outer.event_type === EVENT_STREAM_START && !ids) {
      ids = conversationIds(outer.event_data);
      if (!ids) failure ??= new UpstreamError(`${WHAT}: the stream start carried no conversation id`, true);
    }
  };
  const parser = createParser({ onEvent });
  parser.feed(body);
  return { ...(ids && { ids }), guestUsedUp, ...(failure && { failure }) };
}

/** The ids in a 2002 event's data, if it has them. */
function conversationIds(eventData: unknown): ConversationIds | undefined {
  const data = safeJson(typeof eventData === 'string' ? eventData : '') as Record<string, unknown> | undefined;
  const [conversationId, messageId, sectionId] = [data?.conversation_id, data?.message_id, data?.section_id].map((v) =>
    typeof v === 'string' || typeof v === 'number' ? String(v) : '',
  );
  if (!conversationId || !messageId) return undefined;
  return { conversationId, messageId, sectionId: sectionId ?? '' };
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
