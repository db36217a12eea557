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
const EVENT_STREAM_END = 2003;
const EVENT_RATE_LIMITED = 2005;
const GUEST_USED_UP = 'tourist conversation reach limited';
const WHAT = 'video request';

export interface ConversationIds {
  conversationId: string;
  messageId: string;
  sectionId: string;
}

/** Thrown from inside the parser callbacks; carries the error the request ends with. */
class StreamFailure extends Error {
  constructor(readonly upstream: UpstreamError) {
    super(upstream.message);
  }
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

/** Sends the video request and reads the stream until it ends; resolves with the new conversation's ids. */
export async function requestVideo(
  client: WebClient,
  pool: SessionPool,
  session: Session,
  prompt: string,
  attachments: Attachment[],
): Promise<ConversationIds> {
  const outcome = await client.send(
    session,
    client.url(session, '/samantha/chat/completion'),
    {
      method: 'POST',
      headers: client.headers(session, {
        'content-type': 'application/json',
        accept: 'text/event-stream',
        'agw-js-conv': 'str',
        'x-flow-trace': session.x_flow_trace,
      }),
      body: requestBody(session, prompt, attachments),
      what: WHAT,
    },
    (res) => readStream(res.body, () => pool.coolDown(session)),
  );
  if (outcome.guestUsedUp) {
    await pool.drop(session);
    throw new UpstreamError('the Doubao guest session is used up and was removed; trying another later', true);
  }
  if (!outcome.ids) throw new UpstreamError(`${WHAT}: the stream ended before Doubao created the conversation`, true);
  return outcome.ids;
}

/** Reads the SSE answer until its end event (or a used-up guest); throws the typed error a fault maps to. */
async function readStream(
  body: AsyncIterable<Uint8Array>,
  onRateLimited: () => void,
): Promise<{ ids?: ConversationIds; guestUsedUp: boolean }> {
  let ids: ConversationIds | undefined;
  let ended = false;
  let guestUsedUp = false;
  const onEvent = (event: EventSourceMessage) => {
    if (event.data.includes(GUEST_USED_UP)) guestUsedUp = true;
    // The gateway refused this very request (a policy or a bad attachment): sending it again gets the same answer.
    if (event.event === 'gateway-error') {
      const { code, message } = (safeJson(event.data) ?? {}) as { code?: unknown; message?: unknown };
      const reason = `Doubao refused the request: ${String(message ?? 'gateway error')} (code ${String(code)})`;
      throw new StreamFailure(new UpstreamError(reason, false));
    }
    const outer = safeJson(event.data) as { event_type?: unknown; event_data?: unknown } | undefined;
    if (!outer || typeof outer.event_type !== 'number') {
      if (ids || guestUsedUp) return;
      throw new StreamFailure(new UpstreamError(`${WHAT}: Doubao sent an unreadable event`, true));
    }
    if (outer.event_type === EVENT_RATE_LIMITED) {
      onRateLimited();
      throw new StreamFailure(new UpstreamError(`${WHAT}: Doubao rate-limited this session`, true));
    }
    if (outer.event_type === EVENT_STREAM_END) ended = true;
    if (outer.event_type === EVENT_STREAM_START && !ids) ids = conversationIds(outer.event_data);
  };
  const parser = createParser({ onEvent });
  const decoder = new TextDecoder();
  try {
    for await (const chunk of body) {
      parser.feed(decoder.decode(chunk, { stream: true }));
      if (ended || guestUsedUp) break;
    }
  } catch (error) {
    if (error instanceof StreamFailure) throw error.upstream;
    if (!ids) throw new UpstreamError(`${WHAT}: the stream broke off (${(error as Error).message})`, true);
  }
  return { ...(ids && { ids }), guestUsedUp };
}

/** The ids in a 2002 event's data. */
function conversationIds(eventData: unknown): ConversationIds {
  const data = safeJson(typeof eventData === 'string' ? eventData : '') as Record<string, unknown> | undefined;
  const [conversationId, messageId, sectionId] = [data?.conversation_id, data?.message_id, data?.section_id].map((v) =>
    typeof v === 'string' || typeof v === 'number' ? String(v) : '',
  );
  if (!conversationId || !messageId) {
    throw new StreamFailure(new UpstreamError(`${WHAT}: the stream start carried no conversation id`, true));
  }
  return { conversationId, messageId, sectionId: sectionId ?? '' };
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
