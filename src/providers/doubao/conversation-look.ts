/**
 * A look at a video job without a browser (protocol §8): one message-list call (`/im/chain/single`) with the
 * owning session reads the conversation's video creation. Status 3 with a download URL is the video; a video id
 * without a URL asks `get_play_info` (the video endpoint, then the media one); an encrypted or non-http play URL
 * means still running. A refusal code on the message fails the job at once, in words a user understands.
 * `unknown` means the list could not tell (endpoint missing, refused, no creation yet): the caller falls back to
 * the chat page.
 */
import { randomUUID } from 'node:crypto';
import { classifyAnswer } from './codes.js';
import type { Session } from './session-pool.js';
import type { CallSpec, WebClient } from './web-client.js';

export type Look =
  | { state: 'found'; urls: string[] }
  | { state: 'running'; progress?: number }
  | { state: 'refused'; reason: string; code: string }
  | { state: 'unknown'; why: string };

const CREATION_BLOCK = 2074;
const VIDEO_CREATION = 2;
const VIDEO_DONE = 3;
/** The largest safe integer: "from the newest message on". */
const NEWEST = 9_007_199_254_740_991;

/** `ai_creation_res_code` refusals (§8) as users should read them. */
const REFUSALS: Record<string, string> = {
  '710092006':
    'Doubao refused to make this video: the prompt or image may infringe copyright. Try other wording or another image.',
  '710092007':
    'Doubao refused to make this video: the prompt or image may infringe copyright. Try other wording or another image.',
  '710082041': 'Doubao refused to make this video: the requested duration is not supported. Ask for a shorter video.',
};
const refusal = (code: string) =>
  REFUSALS[code] ?? `Doubao refused to make this video (code ${code}). Try a different prompt or image.`;

interface Creation {
  status?: unknown;
  vid?: unknown;
  download_url?: unknown;
  progress?: unknown;
}

function safeJson(text: unknown): unknown {
  if (typeof text !== 'string') return text;
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

const isHttpUrl = (v: unknown): v is string => typeof v === 'string' && /^https?:\/\//i.test(v);

/** The video creations of one listed message, and its refusal code if any. */
function readMessage(message: Record<string, unknown>): { videos: Creation[]; refusedCode?: string } {
  const ext = (safeJson(message.ext) ?? {}) as Record<string, unknown>;
  const code = ext.ai_creation_res_code;
  const refusedCode =
    code !== undefined && code !== null && String(code) !== '0' && String(code) !== '' ? String(code) : undefined;
  const blocks = safeJson(message.content);
  const videos: Creation[] = [];
  for (const block of Array.isArray(blocks) ? blocks : []) {
    const b = block as { block_type?: unknown; content?: unknown };
    if (b.block_type !== CREATION_BLOCK) continue;
    const content = (safeJson(b.content) ?? {}) as { creation_block?: { creations?: unknown } };
    const creations = content.creation_block?.creations;
    for (const c of Array.isArray(creations) ? creations : []) {
      const creation = c as { type?: unknown; video?: Creation };
      if (creation.type === VIDEO_CREATION && creation.video) videos.push(creation.video);
    }
  }
  return { videos, ...(refusedCode && { refusedCode }) };
}

/** What the creation's progress says, as 0–1 (Doubao gives a percentage). */
function progressOf(video: Creation): number | undefined {
  const p = Number(video.progress);
  return Number.isFinite(p) && p > 0 ? Math.min(1, p > 1 ? p / 100 : p) : undefined;
}

/** One look at the conversation's video with its owning session. Throws only for errors about the session. */
export async function lookInConversation(client: WebClient, session: Session, conversationId: string): Promise<Look> {
  const answer = await client.call(session, {
    kind: 'list',
    method: 'POST',
    path: '/im/chain/single',
    // Exactly this content type: plain `application/json` is refused with 712012002 (§8).
    headers: { 'content-type': 'application/json; encoding=utf-8', 'agw-js-conv': 'str' },
    body: JSON.stringify({
      cmd: 3100,
      uplink_body: {
        pull_singe_chain_uplink_body: {
          conversation_id: conversationId,
          anchor_index: NEWEST,
          conversation_type: 3,
          direction: 1,
          limit: 20,
          ext: { pull_single_chain_scene: 'multi_device_red_dot_sync' },
          filter: { index_list: [] },
        },
      },
      sequence_id: randomUUID(),
      channel: 2,
      version: '1',
    }),
    what: 'video look',
    judge: false,
    dialect: '2026',
  });
  const verdict = classifyAnswer(answer);
  if (answer.status === 404 || verdict.kind === 'refused') {
    return {
      state: 'unknown',
      why: verdict.kind === 'refused' ? `list refused (${verdict.code})` : 'no list endpoint',
    };
  }
  client.judge(session, answer, 'video look');
  if (answer.broken) return { state: 'unknown', why: 'the list answer was cut off' };
  const body = safeJson(answer.body) as
    | { downlink_body?: { pull_singe_chain_downlink_body?: { messages?: unknown } } }
    | undefined;
  const messages = body?.downlink_body?.pull_singe_chain_downlink_body?.messages;
  let running: Look | undefined;
  for (const message of Array.isArray(messages) ? messages : []) {
    const { videos, refusedCode } = readMessage(message as Record<string, unknown>);
    if (refusedCode) return { state: 'refused', reason: refusal(refusedCode), code: refusedCode };
    for (const video of videos) {
      if (video.status === VIDEO_DONE && isHttpUrl(video.download_url))
        return { state: 'found', urls: [video.download_url] };
      // Done without a URL, or a status Doubao did not give: the play info tells (encrypted = not ready).
      if ((video.status === VIDEO_DONE || video.status === undefined) && video.vid) {
        const urls = await playUrls(client, session, String(video.vid));
        if (urls.length > 0) return { state: 'found', urls };
      }
      const progress = progressOf(video);
      running ??= { state: 'running', ...(progress !== undefined && { progress }) };
    }
  }
  return running ?? { state: 'unknown', why: 'no video in the conversation yet' };
}

/** Play URLs of a finished video by its id: the video endpoint first, then the media one (§8). */
async function playUrls(client: WebClient, session: Session, vid: string): Promise<string[]> {
  const ask = async (path: string, body: unknown): Promise<unknown> => {
    const spec: CallSpec = {
      kind: 'play_info',
      method: 'POST',
      path,
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
      what: 'video play info',
      accept: [404],
      dialect: '2026',
    };
    const answer = await client.call(session, spec);
    return answer.status === 200 && !answer.broken ? safeJson(answer.body) : undefined;
  };
  const video = (await ask('/samantha/video/get_play_info', { vid })) as
    | { data?: { play_infos?: Array<{ main?: unknown; main_url?: unknown }> } }
    | undefined;
  const fromVideo = (video?.data?.play_infos ?? []).map((p) => p.main ?? p.main_url).filter(isHttpUrl);
  if (fromVideo.length > 0) return fromVideo;
  const media = (await ask('/samantha/media/get_play_info', { key: vid })) as
    | { data?: { original_media_info?: { main_url?: unknown }; media_info?: Array<{ main_url?: unknown }> } }
    | undefined;
  const candidates = [
    media?.data?.original_media_info?.main_url,
    ...(media?.data?.media_info ?? []).map((m) => m.main_url),
  ];
  // An encrypted (base64, non-http) main_url is what Doubao shows before the file is ready.
  return candidates.filter(isHttpUrl);
}
