/**
 * The fake Discord REST API v10: the routes discord.js and our adapter use, with Discord's error envelope
 * `{message, code}` and fault switches read from the knobs at request time (429s, expired interaction tokens,
 * forbidden channels, blocked DMs, upload limit).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ParsedBody } from './body.js';
import { type FakeMessage, type FakeUser, message, snowflake } from './payloads.js';

export interface DiscordKnobs {
  /** Every webhook route answers 401 code 50027 (the 15-minute interaction token has expired). */
  tokensExpired: boolean;
  /** Channels where the bot may not post or edit (403 code 50013). */
  forbiddenChannels: Set<string>;
  /** Channels the bot cannot see at all (403 code 50001). */
  hiddenChannels: Set<string>;
  /** The user does not accept DMs from the bot (403 code 50007). */
  dmBlocked: boolean;
  /** Uploads larger than this get 413 code 40005. */
  uploadLimitBytes: number;
  /** The next `count` requests whose "METHOD /path" matches get 429 with `retry_after`. */
  rateLimit: { pattern: RegExp; count: number; retryAfterS: number } | null;
}

export const defaultKnobs = (): DiscordKnobs => ({
  tokensExpired: false,
  forbiddenChannels: new Set(),
  hiddenChannels: new Set(),
  dmBlocked: false,
  uploadLimitBytes: 25 * 1024 * 1024,
  rateLimit: null,
});

export interface LoggedRequest {
  method: string;
  /** Decoded path after `/api/v10`. */
  path: string;
  body: Record<string, unknown> | null;
  files: { field: string; filename: string; size: number; bytes: Buffer }[];
  status: number;
  at: number;
}

export interface RestState {
  port: number;
  token: string;
  appId: string;
  botUser: FakeUser;
  knobs: DiscordKnobs;
  messages: Map<string, FakeMessage>;
  /** Interaction token → id of its original response message. */
  originals: Map<string, string>;
  /** Interaction token → the channel it came from. */
  tokenChannels: Map<string, string>;
  attachments: Map<string, { bytes: Buffer; contentType: string }>;
  dmChannels: Map<string, string>;
}

type Reply = { status: number; body?: unknown; headers?: Record<string, string> };

const error = (status: number, code: number, msg: string): Reply => ({ status, body: { message: msg, code } });

export function route(state: RestState, req: IncomingMessage, path: string, body: ParsedBody): Reply {
  const method = req.method ?? 'GET';
  const k = state.knobs;
  if (k.rateLimit && k.rateLimit.count > 0 && k.rateLimit.pattern.test(`${method} ${path}`)) {
    k.rateLimit.count -= 1;
    const after = k.rateLimit.retryAfterS;
    return {
      status: 429,
      body: { message: 'You are being rate limited.', retry_after: after, global: false },
      headers: { 'retry-after': String(after), 'x-ratelimit-scope': 'user' },
    };
  }
  const p = path.split('/').filter(Boolean);
  const isWebhook = p[0] === 'webhooks' || p[0] === 'interactions';
  if (!isWebhook && req.headers.authorization !== `Bot ${state.token}`) return error(401, 0, '401: Unauthorized');

  if (method === 'GET' && path === '/gateway/bot') {
    return {
      status: 200,
      body: {
        url: `ws://127.0.0.1:${state.port}/gateway`,
        shards: 1,
        session_start_limit: { total: 1000, remaining: 1000, reset_after: 0, max_concurrency: 1 },
      },
    };
  }
  if (method === 'GET' && path === '/users/@me') return { status: 200, body: state.botUser };
  if (method === 'PUT' && p[0] === 'applications' && p.at(-1) === 'commands') {
    const list = Array.isArray(body.json) ? (body.json as Record<string, unknown>[]) : [];
    return {
      status: 200,
      body: list.map((c) => ({ ...c, id: snowflake(), application_id: state.appId, version: '1' })),
    };
  }
  if (p[0] === 'interactions' && p[3] === 'callback' && method === 'POST') {
    const withResponse = new URL(req.url ?? '/', 'http://fake').searchParams.get('with_response') === 'true';
    return callback(state, p[2]!, body, withResponse);
  }
  if (p[0] === 'webhooks') return webhook(state, method, p, body);
  if (p[0] === 'channels') return channel(state, method, p, body);
  if (method === 'POST' && path === '/users/@me/channels') {
    const recipient = String(body.json?.recipient_id ?? '');
    const id = state.dmChannels.get(recipient) ?? snowflake();
    state.dmChannels.set(recipient, id);
    return { status: 200, body: { id, type: 1, recipients: [{ id: recipient, username: 'u', discriminator: '0' }] } };
  }
  return error(404, 0, `404: Not Found (${method} ${path})`);
}

/** An interaction's answer; `with_response=true` gets Discord's InteractionCallbackResponse (with the message). */
function callback(state: RestState, token: string, body: ParsedBody, withResponse: boolean): Reply {
  const type = Number(body.json?.type);
  const data = (body.json?.data ?? {}) as Record<string, unknown>;
  const channelId = state.tokenChannels.get(token);
  if (!channelId) return error(404, 10062, 'Unknown interaction');
  let created: Record<string, unknown> | undefined;
  if (type === 4 || type === 5) {
    const m = message({
      channel_id: channelId,
      author: state.botUser,
      content: type === 4 ? String(data.content ?? '') : '',
      flags: Number(data.flags ?? 0) | (type === 5 ? 128 : 0),
      interaction_token: token,
      webhook_id: state.appId,
      type: 20,
      components: (data.components as unknown[]) ?? [],
      embeds: (data.embeds as unknown[]) ?? [],
    });
    state.messages.set(m.id, m);
    state.originals.set(token, m.id);
    created = m as unknown as Record<string, unknown>;
  }
  if (!withResponse) return { status: 204 };
  return {
    status: 200,
    body: {
      interaction: { id: snowflake(), type: 2, response_message_id: created?.id, response_message_loading: type === 5 },
      ...(created && { resource: { type, message: created } }),
    },
  };
}

function webhook(state: RestState, method: string, p: string[], body: ParsedBody): Reply {
  const [, appId, token, sub, mid] = p;
  if (appId !== state.appId || !token) return error(404, 10015, 'Unknown Webhook');
  if (state.knobs.tokensExpired || !state.tokenChannels.has(token)) return error(401, 50027, 'Invalid Webhook Token');
  const channelId = state.tokenChannels.get(token)!;
  if (sub === 'messages' && mid) {
    const id = mid === '@original' ? state.originals.get(token) : mid;
    const m = id ? state.messages.get(id) : undefined;
    if (!m) return error(404, 10008, 'Unknown Message');
    if (method === 'GET') return { status: 200, body: m };
    if (method === 'DELETE') {
      state.messages.delete(m.id);
      return { status: 204 };
    }
    if (method === 'PATCH') return edit(state, m, body);
  }
  if (method === 'POST' && !sub) return create(state, channelId, body, { interaction_token: token, webhook_id: appId });
  return error(405, 0, '405: Method Not Allowed');
}

function channel(state: RestState, method: string, p: string[], body: ParsedBody): Reply {
  const [, channelId, sub, mid] = p;
  if (!channelId) return error(404, 10003, 'Unknown Channel');
  if (state.knobs.hiddenChannels.has(channelId)) return error(403, 50001, 'Missing Access');
  const dm = [...state.dmChannels.values()].includes(channelId);
  if (method === 'GET' && !sub) {
    return { status: 200, body: dm ? { id: channelId, type: 1 } : { id: channelId, type: 0, name: 'general' } };
  }
  if (dm && state.knobs.dmBlocked) return error(403, 50007, 'Cannot send messages to this user');
  if (state.knobs.forbiddenChannels.has(channelId)) return error(403, 50013, 'Missing Permissions');
  if (sub === 'messages' && method === 'POST' && !mid) return create(state, channelId, body, {});
  if (sub === 'messages' && mid) {
    const m = state.messages.get(mid);
    if (!m || m.channel_id !== channelId) return error(404, 10008, 'Unknown Message');
    if (method === 'GET') return { status: 200, body: m };
    if (method === 'PATCH') return edit(state, m, body);
  }
  return error(405, 0, '405: Method Not Allowed');
}

function tooLarge(state: RestState, body: ParsedBody): Reply | undefined {
  const size = body.files.reduce((n, f) => n + f.bytes.length, 0);
  return size > state.knobs.uploadLimitBytes ? error(413, 40005, 'Request entity too large') : undefined;
}

function attachmentsOf(state: RestState, body: ParsedBody): FakeMessage['attachments'] {
  return body.files.map((f) => {
    const id = snowflake();
    state.attachments.set(id, { bytes: f.bytes, contentType: f.contentType });
    const url = `http://127.0.0.1:${state.port}/cdn/attachments/${id}/${encodeURIComponent(f.filename)}`;
    return { id, filename: f.filename, size: f.bytes.length, url, proxy_url: url };
  });
}

function create(state: RestState, channelId: string, body: ParsedBody, extra: Partial<FakeMessage>): Reply {
  const big = tooLarge(state, body);
  if (big) return big;
  const j = body.json ?? {};
  const m = message({
    channel_id: channelId,
    author: state.botUser,
    content: String(j.content ?? ''),
    embeds: (j.embeds as unknown[]) ?? [],
    components: (j.components as unknown[]) ?? [],
    flags: Number(j.flags ?? 0),
    attachments: attachmentsOf(state, body),
    ...extra,
  });
  state.messages.set(m.id, m);
  return { status: 200, body: m };
}

function edit(state: RestState, m: FakeMessage, body: ParsedBody): Reply {
  const big = tooLarge(state, body);
  if (big) return big;
  const j = body.json ?? {};
  if (typeof j.content === 'string') m.content = j.content;
  if (Array.isArray(j.embeds)) m.embeds = j.embeds;
  if (Array.isArray(j.components)) m.components = j.components;
  if (body.files.length) m.attachments = attachmentsOf(state, body);
  m.flags &= ~128;
  m.edited_timestamp = new Date().toISOString();
  return { status: 200, body: m };
}

export function send(res: ServerResponse, reply: Reply): void {
  const type = reply.body === undefined ? {} : { 'content-type': 'application/json' };
  res.writeHead(reply.status, { ...type, ...reply.headers });
  res.end(reply.body === undefined ? undefined : JSON.stringify(reply.body));
}
