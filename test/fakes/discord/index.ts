/**
 * A fake Discord (REST API v10 + WebSocket gateway + attachment CDN) on 127.0.0.1:0, driven by a real
 * discord.js Client in tests and the bench. Point the client at `apiBase` (`rest: { api }` or DISCORD_API_BASE).
 * Every REST request is logged (decoded path, JSON body or multipart payload and files, status, time), and
 * `dispatchInteraction` pushes INTERACTION_CREATE through the gateway as Discord does.
 */
import { randomBytes } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { readBody } from './body.js';
import { FakeGateway } from './gateway.js';
import { type FakeMessage, type InteractionInput, interaction, snowflake, user } from './payloads.js';
import { type DiscordKnobs, defaultKnobs, type LoggedRequest, type RestState, route, send } from './rest.js';

export { ADMIN_PERMISSIONS, MEMBER_PERMISSIONS } from './payloads.js';
export type { DiscordKnobs, LoggedRequest } from './rest.js';

export interface SlashInput {
  name: string;
  userId?: string;
  locale?: string;
  permissions?: string;
  attachmentSizeLimit?: number;
  /** Option values: a string is a STRING option (type 3), a number an INTEGER option (type 4). */
  options?: Record<string, string | number>;
  /** An attachment added with `addAttachment`, passed as option `image`. */
  image?: FakeAttachment;
  /** Where it is used: the fake guild (default), another guild by id, or `null` for a DM with the bot. */
  guildId?: string | null;
  /** Options given as Discord sends them (subcommands, typed values), instead of `options`' strings. */
  rawOptions?: unknown[];
  /** `data.resolved` for `rawOptions` (users, members). */
  resolved?: Record<string, unknown>;
  /** How long ago Discord created the interaction (a bot that is behind, as under a burst). */
  createdAgoMs?: number;
}

export type DiscordFake = Awaited<ReturnType<typeof startDiscordFake>>;

/** An attachment on the fake CDN, as Discord resolves it in `data.resolved.attachments`. */
export interface FakeAttachment {
  id: string;
  filename: string;
  size: number;
  url: string;
  proxy_url: string;
  content_type: string;
}

/**
 * `port` and `token` let a test bring "Discord" up later where a bot already looks, with the token it already has;
 * by default any free port and a fresh token.
 */
export async function startDiscordFake(
  knobs: Partial<DiscordKnobs> = {},
  { port = 0, token = `fake.${randomBytes(12).toString('base64url')}` } = {},
) {
  const events = new EventEmitter().setMaxListeners(0);
  const requests: LoggedRequest[] = [];
  const gatewayOps: { op: number; d: unknown }[] = [];
  const state: RestState = {
    port: 0,
    token,
    appId: snowflake(),
    botUser: user(snowflake(), 'videobot', true),
    knobs: { ...defaultKnobs(), ...knobs },
    messages: new Map(),
    originals: new Map(),
    tokenChannels: new Map(),
    attachments: new Map(),
    dmChannels: new Map(),
  };
  const guildId = snowflake();
  const channelId = snowflake();

  const server = createServer((req, res) => {
    void (async () => {
      const url = new URL(req.url ?? '/', 'http://127.0.0.1');
      const cdn = /^\/cdn\/attachments\/(\d+)\//.exec(url.pathname);
      if (cdn) {
        const file = state.attachments.get(cdn[1]!);
        if (!file) return send(res, { status: 404, body: { message: 'not found' } });
        res.writeHead(200, { 'content-type': file.contentType, 'content-length': file.bytes.length });
        return res.end(file.bytes);
      }
      const path = decodeURIComponent(url.pathname).replace(/^\/api\/v10/, '');
      const body = await readBody(req);
      const reply = route(state, req, path, body);
      const entry: LoggedRequest = {
        method: req.method ?? 'GET',
        path,
        body: body.json,
        files: body.files.map((f) => ({ field: f.field, filename: f.filename, size: f.bytes.length, bytes: f.bytes })),
        status: reply.status,
        at: performance.now(),
      };
      requests.push(entry);
      send(res, reply);
      events.emit('request', entry);
    })().catch((err: unknown) => send(res, { status: 500, body: { message: String(err), code: 0 } }));
  });
  const gateway = new FakeGateway(server, {
    token: state.token,
    appId: state.appId,
    botUser: state.botUser,
    guildId,
    channelId,
    onOp: (op, d) => gatewayOps.push({ op, d }),
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', resolve);
  });
  state.port = (server.address() as AddressInfo).port;

  /** Resolves with the first logged request (past or future) matching `predicate`. */
  function waitFor(predicate: (r: LoggedRequest) => boolean, timeoutMs = 15_000): Promise<LoggedRequest> {
    const found = requests.find(predicate);
    if (found) return Promise.resolve(found);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        events.off('request', listener);
        reject(new Error(`no matching Discord request within ${timeoutMs} ms`));
      }, timeoutMs);
      const listener = (r: LoggedRequest) => {
        if (!predicate(r)) return;
        clearTimeout(timer);
        events.off('request', listener);
        resolve(r);
      };
      events.on('request', listener);
    });
  }

  function dispatchInteraction(
    input: Omit<InteractionInput, 'guildId' | 'channelId'> & { channelId?: string; guildId?: string | null },
  ) {
    const token = `itok.${randomBytes(16).toString('base64url')}`;
    const chan = input.channelId ?? channelId;
    state.tokenChannels.set(token, chan);
    const payload = interaction(
      { ...input, guildId: input.guildId === undefined ? guildId : input.guildId, channelId: chan },
      state.appId,
      token,
    );
    const sentAt = performance.now();
    gateway.dispatch('INTERACTION_CREATE', payload);
    return { id: payload.id, token, sentAt };
  }

  return {
    apiBase: `http://127.0.0.1:${state.port}/api`,
    token: state.token,
    appId: state.appId,
    botUser: state.botUser,
    guildId,
    channelId,
    knobs: state.knobs,
    requests,
    gatewayOps,
    messages: state.messages,
    whenReady: () => gateway.whenReady(),
    /** Clients holding an identified gateway connection now. */
    readyClients: () => gateway.readyClients(),
    waitFor,
    dispatchInteraction,

    /** Stores bytes on the fake CDN; the result is what Discord resolves an attachment option to. */
    addAttachment(bytes: Buffer, filename: string, contentType: string): FakeAttachment {
      const id = snowflake();
      state.attachments.set(id, { bytes, contentType });
      const url = `http://127.0.0.1:${state.port}/cdn/attachments/${id}/${encodeURIComponent(filename)}`;
      return { id, filename, size: bytes.length, url, proxy_url: url, content_type: contentType };
    },

    /** A slash command from a member of the fake guild, through the gateway. */
    slash(input: SlashInput) {
      const options: unknown[] =
        input.rawOptions ??
        Object.entries(input.options ?? {}).map(([name, value]) => ({
          name,
          type: typeof value === 'number' ? 4 : 3,
          value,
        }));
      if (input.image) options.push({ name: 'image', type: 11, value: input.image.id });
      const resolved = input.image ? { attachments: { [input.image.id]: input.image } } : input.resolved;
      return dispatchInteraction({
        type: 2,
        ...(input.guildId !== undefined && { guildId: input.guildId }),
        userId: input.userId ?? '100000000000000001',
        locale: input.locale,
        permissions: input.permissions,
        attachmentSizeLimit: input.attachmentSizeLimit,
        createdAgoMs: input.createdAgoMs,
        command: {
          name: input.name,
          options,
          resolved,
        },
      });
    },

    /** A button click on a message the bot posted. */
    click(customId: string, messageId: string, userId: string, extra: { permissions?: string; locale?: string } = {}) {
      const m = state.messages.get(messageId);
      if (!m) throw new Error(`no message ${messageId}`);
      return dispatchInteraction({ type: 3, userId, ...extra, component: { customId, message: m } });
    },

    /** The response message of an interaction (its `@original`). */
    original(token: string): FakeMessage | undefined {
      const id = state.originals.get(token);
      return id ? state.messages.get(id) : undefined;
    },

    /** The DM channel id opened with a user, if any. */
    dmChannel: (userId: string) => state.dmChannels.get(userId),

    async close() {
      gateway.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
