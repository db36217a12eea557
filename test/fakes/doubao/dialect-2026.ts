/**
 * The fake Doubao's 2026 dialect (protocol §8): `/chat/completion` with content blocks and named SSE frames
 * (SSE_ACK, STREAM_CHUNK, SSE_HEARTBEAT, an unknown frame, SSE_REPLY_END; faults as STREAM_ERROR), the message
 * list `/im/chain/single` whose video creation turns to status 3 after the ready delay, and both play-info
 * endpoints by video id (the media one gives an encrypted `main_url` until the video is ready). Play URLs are on
 * a "video host" path ending in `/`, as Doubao's own hosts are.
 */
import { randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { CompletionFault, DoubaoFakeKnobs, FakeConversation } from './index.js';

export const BOT_ID = '7338286299411103781';

export interface FakeContext {
  knobs: DoubaoFakeKnobs;
  conversations: Map<string, FakeConversation>;
  images: Map<string, unknown>;
  videoTokens: Set<string>;
  isReady(id: string, c: FakeConversation): boolean;
  newIds(): { conversation_id: string; message_id: string; section_id: string };
  json(res: ServerResponse, status: number, body: unknown): void;
  /** Counts a guest's video; false once the guest's quota is used up. */
  guestTurn(owner: string, guest: boolean): boolean;
}

/** A parsed request body: JSON of unknown shape, read with optional chaining. */
// biome-ignore lint/suspicious/noExplicitAny: the fake reads whatever JSON the client sent, as the server would
type Body = any;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function safeJson(text: string): Body {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** The play URL of a ready video: a Doubao-style video host path that ends in `/`, the type in the query. */
function playUrl(req: IncomingMessage, ctx: FakeContext): string {
  const token = randomBytes(12).toString('hex');
  ctx.videoTokens.add(token);
  return `http://${req.headers.host}/video/tos/cn/${token}/?mime_type=video_mp4&expires=${Date.now() + 600_000}`;
}

/** Streams a 2026 answer to a video request: frames, faults and the conversation it creates. */
export async function streamCompletion2026(
  res: ServerResponse,
  body: Record<string, unknown>,
  owner: string,
  guest: boolean,
  ctx: FakeContext,
): Promise<void> {
  const send = async (event: string, data: unknown) => {
    if (ctx.knobs.streamDelayMs) await sleep(ctx.knobs.streamDelayMs);
    const frame = `event: ${event}\ndata: ${typeof data === 'string' ? data : JSON.stringify(data)}\n\n`;
    await new Promise((resolve) => res.write(frame, resolve));
  };
  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
  res.flushHeaders();
  const fault: CompletionFault | undefined = ctx.knobs.completionFaults.shift();
  if (fault === 'stall') return;
  if (fault === 'truncated-before-start') return void res.destroy();
  if (fault === 'malformed-event') {
    await send('SSE_ACK', '{"ack_client_meta": {"conversation_id": ');
    return void res.destroy();
  }
  const error = async (code: number, msg: string) => {
    await send('STREAM_ERROR', { error_code: code, error_msg: msg });
    res.end();
  };
  if (fault === 'rate-limit-2005') return error(710022004, 'rate limited');
  if (fault === 'gateway-error') return error(710022005, 'content not allowed');

  const message = (body.messages as Array<Record<string, unknown>> | undefined)?.[0];
  const blocks = (message?.content_block as Array<{ block_type?: number; content?: Body }>) ?? [];
  const text = blocks.find((b) => b.block_type === 10000)?.content?.text_block?.text;
  const images = blocks.filter((b) => b.block_type === 10052).map((b) => b.content?.attachment_block?.image?.uri);
  const ability = body.chat_ability as { ability_type?: number; ability_param?: unknown } | undefined;
  // The page sends `ability_param` as a JSON string, not an object.
  const param = typeof ability?.ability_param === 'string' ? safeJson(ability.ability_param) : undefined;
  const meta = body.client_meta as { bot_id?: string } | undefined;
  if (
    meta?.bot_id !== BOT_ID ||
    ability?.ability_type !== 17 ||
    typeof param?.ratio !== 'string' ||
    !Number.isInteger(param?.duration) ||
    typeof text !== 'string' ||
    images.some((uri) => !ctx.images.has(String(uri)))
  ) {
    return error(710022001, 'invalid video request');
  }
  if (!ctx.guestTurn(owner, guest)) {
    await send('STREAM_CHUNK', { patch_op: [{ patch_value: { text: 'tourist conversation reach limited' } }] });
    await send('SSE_REPLY_END', {});
    return void res.end();
  }
  const ids = ctx.newIds();
  ctx.conversations.set(ids.conversation_id, {
    owner,
    prompt: text.replace(/^生成视频：/, '').replace(/，[\d:]+$/, ''),
    attachments: images.map(String),
    createdAt: Date.now(),
    messageId: ids.message_id,
    vid: `v0${randomBytes(10).toString('hex')}`,
    dialect: '2026',
    ratio: param.ratio,
    duration: param.duration,
    text,
    ...(ctx.knobs.refuseNext.length > 0 && { refusal: ctx.knobs.refuseNext.shift() }),
  });
  await send('SSE_HEARTBEAT', {});
  await send('SSE_ACK', {
    ack_client_meta: { conversation_id: ids.conversation_id, section_id: ids.section_id },
    question_id: ids.message_id,
  });
  if (fault === 'truncated-after-start') return void res.destroy();
  await send('STREAM_CHUNK', { patch_op: [{ patch_object: 1, patch_value: { text: '好的，正在为你生成视频' } }] });
  await send('SSE_HEARTBEAT', '');
  await send('SOMETHING_NEW', { hello: 'a frame nobody knows yet' });
  await send('SSE_REPLY_END', { end_type: 1 });
  res.end();
}

/** The message list of a conversation, as `/im/chain/single` answers it (only to the owning session). */
export function listAnswer(req: IncomingMessage, body: Body, owner: string | undefined, ctx: FakeContext): unknown {
  const id = String(body?.uplink_body?.pull_singe_chain_uplink_body?.conversation_id ?? '');
  const c = ctx.conversations.get(id);
  if (!c || c.owner !== owner) return listOf([]);
  const question = {
    message_id: `${c.messageId}0`,
    content: JSON.stringify([{ block_type: 10000, content: { text_block: { text: c.prompt } } }]),
  };
  if (c.refusal !== undefined) {
    return listOf([
      question,
      { message_id: c.messageId, content: '[]', ext: { ai_creation_res_code: String(c.refusal) } },
    ]);
  }
  const ready = ctx.isReady(id, c);
  const delay = ctx.knobs.readyDelayFor.get(id) ?? ctx.knobs.readyDelayMs;
  const shape = ctx.knobs.listShape;
  const video: Record<string, unknown> = {
    vid: c.vid,
    duration: c.duration ?? 5,
    cover: `http://${req.headers.host}/thumb/c.png`,
  };
  if (shape !== 'no_status') video.status = ready ? 3 : 1;
  if (!ready && delay > 0) video.progress = Math.floor(((Date.now() - c.createdAt) / delay) * 100);
  if (ready && shape === 'download_url') video.download_url = playUrl(req, ctx);
  const creation = { block_type: 2074, content: { creation_block: { creations: [{ type: 2, video }] } } };
  return listOf([question, { message_id: c.messageId, content: JSON.stringify([creation]), ext: {} }]);
}

function listOf(messages: unknown[]) {
  return { code: 0, downlink_body: { pull_singe_chain_downlink_body: { messages, has_more: false } } };
}

/** The conversation whose video has this id, if the caller owns it. */
function byVid(vid: unknown, owner: string | undefined, ctx: FakeContext) {
  for (const [id, c] of ctx.conversations) if (c.vid === vid && c.owner === owner) return { id, c };
  return undefined;
}

/** `/samantha/video/get_play_info {vid}`: the play URL once ready, none before. */
export function videoPlayInfo(req: IncomingMessage, body: Body, owner: string | undefined, ctx: FakeContext) {
  const found = byVid(body?.vid, owner, ctx);
  const ready = found && ctx.isReady(found.id, found.c);
  return { code: 0, data: { play_infos: ready ? [{ main: playUrl(req, ctx), definition: '720p' }] : [] } };
}

/** `/samantha/media/get_play_info {key}`: before the video is ready its `main_url` is encrypted (not http). */
export function mediaPlayInfo(req: IncomingMessage, body: Body, owner: string | undefined, ctx: FakeContext) {
  const found = byVid(body?.key, owner, ctx);
  if (!found) return { code: 0, data: {} };
  const main = ctx.isReady(found.id, found.c) ? playUrl(req, ctx) : randomBytes(48).toString('base64');
  return { code: 0, data: { original_media_info: { main_url: main }, media_info: [{ main_url: main }] } };
}
