/**
 * Asking Doubao for a video in either dialect. The 2026 one (protocol §8: `/chat/completion`, content blocks,
 * `chat_ability` 17) is tried first; when that endpoint answers 404, refuses the request, or the stream comes in
 * the 2025 frame shape, the 2025 one (§4: `/samantha/chat/completion`, content_type 2020) is used, and the
 * session's dialect is remembered. Once the stream acknowledged the job (SSE_ACK or 2002) the video is being made upstream, so a
 * stream cut off after it still returns the ids: one task never starts two videos. An error frame is Doubao
 * saying no (rate limit, risk control, refusal), before or after the acknowledgement: that ends in the error.
 *
 * Options (ratio, duration): the 2026 body has fields for them (`chat_ability.ability_param`, and the ratio at the
 * end of the text block, as the page writes it); the 2025 body has none, so a task that asked for options says
 * them at the end of its prompt the same way (`，9:16，10秒`), the convention the page itself uses in its text.
 * A task without options sends exactly what it sent before options existed.
 */
import { randomInt, randomUUID } from 'node:crypto';
import { UpstreamError } from '../../core/errors.js';
import { DURATIONS_S, RATIOS, type VideoCapabilities, type VideoOptions } from '../../core/options.js';
import { classifyAnswer } from './codes.js';
import type { DialectMemory } from './dialect.js';
import type { Session, SessionPool } from './session-pool.js';
import { readVideoStream } from './stream-frames.js';
import type { DoubaoAnswer } from './transport.js';
import type { Attachment } from './upload.js';
import type { CallSpec, WebClient } from './web-client.js';

const VIDEO_CONTENT_TYPE = 2020;
/** The Doubao bot that makes videos, and its video skill (§8). */
const BOT_ID = '7338286299411103781';
const VIDEO_ABILITY = 17;
/** "Seedance 2.0 Fast", the page's quick model; a 5-second 16:9 clip like the seed's default. */
const VIDEO_MODEL = 'seedance_v2.0';
const RATIO = '16:9';
const DURATION_S = 5;
const TEXT_BLOCK = 10000;
const ATTACHMENT_BLOCK = 10052;
const WHAT = 'video request';

/** What the Doubao web page's video tool offers: the Seedance ratios, 5 or 10 seconds, no resolution choice. */
export const DOUBAO_CAPABILITIES: VideoCapabilities = { ratios: RATIOS, durationsS: DURATIONS_S, resolutions: [] };

/** The 2025 prompt with the options said at its end (`，9:16，10秒`); unchanged without options. */
export function promptWithOptions(prompt: string, options: VideoOptions | undefined): string {
  const said = [options?.ratio, options?.durationS && `${options.durationS}秒`].filter(Boolean);
  return said.length ? `${prompt}，${said.join('，')}` : prompt;
}

export interface VideoIds {
  conversationId: string;
  messageId: string;
  sectionId: string;
}

const localConversationId = () =>
  `local_${String(randomInt(10 ** 8)).padStart(8, '0')}${String(randomInt(10 ** 8)).padStart(8, '0')}`;

/** A fresh `x-flow-trace` as the 2026 web client sends with each request. */
const flowTrace = () => `04-${randomUUID().replaceAll('-', '')}-${randomUUID().replaceAll('-', '').slice(0, 16)}-01`;

function body2025(session: Session, prompt: string, attachments: Attachment[]): string {
  return JSON.stringify({
    completion_option: {
      is_regen: false,
      with_suggest: false,
      need_create_conversation: true,
      launch_stage: 1,
      use_auto_cot: false,
      use_deep_think: false,
      action_bar_skill_id: VIDEO_ABILITY,
    },
    conversation_id: '0',
    messages: [
      { content: JSON.stringify({ text: prompt }), content_type: VIDEO_CONTENT_TYPE, attachments, references: [] },
    ],
    ...(!session.guest && { local_conversation_id: localConversationId(), local_message_id: randomUUID() }),
  });
}

/**
 * The 2026 body, as the web page builds it (a capture published by guo641/doustudio, 2026-07): the prompt as a
 * text block (`生成视频：<prompt>，<ratio>`), images as attachment blocks, the video ability whose
 * `ability_param` is itself a JSON string, and a new conversation acknowledged in SSE_ACK.
 */
function body2026(
  session: Session,
  prompt: string,
  attachments: Attachment[],
  messageId: string,
  options: VideoOptions | undefined,
): string {
  const ratio = options?.ratio ?? RATIO;
  const duration = options?.durationS ?? DURATION_S;
  const block = (type: number, content: unknown) => ({
    block_type: type,
    content,
    block_id: randomUUID(),
    parent_id: '',
  });
  const blocks: unknown[] = [block(TEXT_BLOCK, { text_block: { text: `生成视频：${prompt}，${ratio}` } })];
  for (const a of attachments) {
    blocks.push(
      block(ATTACHMENT_BLOCK, {
        attachment_block: {
          type: 1,
          identifier: a.identifier,
          image: { uri: a.key, name: a.name, image_ori: { width: a.option.width, height: a.option.height } },
        },
      }),
    );
  }
  const now = Date.now();
  const fp = /(?:^|;\s*)s_v_web_id=([^;]+)/.exec(session.cookie)?.[1] ?? '';
  return JSON.stringify({
    client_meta: {
      local_conversation_id: localConversationId(),
      conversation_id: '',
      bot_id: BOT_ID,
      last_section_id: '',
      last_message_index: null,
    },
    messages: [{ local_message_id: messageId, content_block: blocks, message_status: 0 }],
    option: {
      create_time_ms: now,
      unique_key: randomUUID(),
      need_create_conversation: true,
      conversation_init_option: { need_ack_conversation: true },
      recovery_option: { is_recovery: false, req_create_time_sec: Math.floor(now / 1000), append_sse_event_scene: 0 },
    },
    chat_ability: {
      ability_type: VIDEO_ABILITY,
      ability_param: JSON.stringify({ ratio, model: VIDEO_MODEL, duration }),
    },
    ext: { fp },
  });
}

/** The POST both dialects' video requests share; they differ in path, flow trace and body. */
function completionSpec(path: string, flowTraceHeader: string, body: string): CallSpec {
  return {
    kind: 'completion',
    method: 'POST',
    path,
    headers: {
      'content-type': 'application/json',
      accept: 'text/event-stream',
      'agw-js-conv': 'str',
      'x-flow-trace': flowTraceHeader,
    },
    body,
    what: WHAT,
  };
}

/** One video request: what to send, from which session, and what the request needs to send and remember it. */
export interface VideoRequest {
  client: WebClient;
  pool: SessionPool;
  dialects: DialectMemory;
  session: Session;
  prompt: string;
  attachments: Attachment[];
  /** The task's ratio and duration; absent → the page's defaults (16:9, 5 s). */
  options?: VideoOptions;
}

/** Sends the video request in the session's dialect (probing when unknown); resolves with the job's ids. */
export async function requestVideo(req: VideoRequest): Promise<VideoIds> {
  const { client, pool, dialects, session, prompt, attachments, options } = req;
  if (dialects.get(session.id) !== '2025') {
    const messageId = randomUUID();
    const body = body2026(session, prompt, attachments, messageId, options);
    const answer = await client.call(session, {
      ...completionSpec('/chat/completion', flowTrace(), body),
      accept: [404],
      judge: false,
      dialect: '2026',
    });
    const reading = answer.status === 404 ? undefined : readVideoStream(answer.body);
    // An old server answering the new path in the old shape: its ids are a job already made, never ask twice.
    if (reading?.shape === '2025' && reading.ids) {
      dialects.set(session.id, '2025');
      return finish(pool, session, answer, reading);
    }
    // A refusal of the new body (in either frame shape) says nothing about the old one: that is tried next.
    if (reading && !reading.ids && classifyAnswer(answer).kind === 'refused') {
      return request2025(req, answer);
    }
    if (reading && reading.shape !== '2025') {
      client.judge(session, answer, WHAT);
      const ids = await finish(pool, session, answer, reading, messageId);
      dialects.set(session.id, '2026');
      return ids;
    }
    if (reading) client.judge(session, answer, WHAT); // old frames without ids: a code about the session counts
  }
  return request2025(req);
}

/**
 * The 2025 request. After a refused 2026 one (`refusedNew`), an old endpoint that is gone (404) means the
 * refusal stands: it is the error the request ends with.
 */
async function request2025(req: VideoRequest, refusedNew?: DoubaoAnswer): Promise<VideoIds> {
  const { client, pool, dialects, session, prompt, attachments, options } = req;
  const body = body2025(session, promptWithOptions(prompt, options), attachments);
  const spec: CallSpec = {
    ...completionSpec('/samantha/chat/completion', session.x_flow_trace, body),
    ...(refusedNew && { accept: [404] }),
  };
  const answer = await client.call(session, spec);
  if (answer.status === 404 && refusedNew) client.judge(session, refusedNew, WHAT);
  const reading = readVideoStream(answer.body);
  const ids = await finish(pool, session, answer, reading);
  dialects.set(session.id, '2025');
  return ids;
}

/** The ids of an acknowledged job, or the error a stream without one means. */
async function finish(
  pool: SessionPool,
  session: Session,
  answer: DoubaoAnswer,
  reading: ReturnType<typeof readVideoStream>,
  sentMessageId?: string,
): Promise<VideoIds> {
  if (reading.ids) {
    const messageId = reading.ids.messageId ?? sentMessageId;
    if (messageId) return { conversationId: reading.ids.conversationId, messageId, sectionId: reading.ids.sectionId };
  }
  if (reading.guestUsedUp) {
    await pool.drop(session);
    throw new UpstreamError('the Doubao guest session is used up and was removed; trying another later', true);
  }
  if (answer.broken) throw new UpstreamError(`${WHAT}: the stream broke off (${answer.broken.message})`, true);
  throw new UpstreamError(`${WHAT}: the stream ended before Doubao created the conversation`, true);
}
