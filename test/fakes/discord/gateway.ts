/**
 * The fake Discord gateway: plain JSON over a real WebSocket (no compression, as discord.js uses without
 * zlib-sync). HELLO, heartbeat ACKs, IDENTIFY checked against the bot token (close 4004 otherwise), READY then one
 * GUILD_CREATE per guild, RESUME → RESUMED, and dispatches with an increasing sequence number.
 */
import type { IncomingMessage, Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { type WebSocket, WebSocketServer } from 'ws';
import { type FakeUser, snowflake } from './payloads.js';

export interface GatewayOptions {
  token: string;
  appId: string;
  botUser: FakeUser;
  guildId: string;
  channelId: string;
  /** Called with every op a client sends, for assertions. */
  onOp(op: number, d: unknown): void;
}

export class FakeGateway {
  readonly #wss = new WebSocketServer({ noServer: true });
  readonly #options: GatewayOptions;
  readonly #sessions = new Set<{ ws: WebSocket; seq: number; ready: boolean }>();
  readonly #readyWaiters: (() => void)[] = [];

  constructor(server: Server, options: GatewayOptions) {
    this.#options = options;
    server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
      if (!req.url?.startsWith('/gateway')) return socket.destroy();
      this.#wss.handleUpgrade(req, socket, head, (ws) => this.#accept(ws));
    });
  }

  /** Resolves once a client has identified and received READY. */
  whenReady(): Promise<void> {
    if ([...this.#sessions].some((s) => s.ready)) return Promise.resolve();
    return new Promise((resolve) => this.#readyWaiters.push(resolve));
  }

  /** Clients identified (READY) and still connected. */
  readyClients(): number {
    return [...this.#sessions].filter((s) => s.ready).length;
  }

  /** Sends a dispatch to every identified client; returns how many got it. */
  dispatch(t: string, d: unknown): number {
    let sent = 0;
    for (const session of this.#sessions) {
      if (!session.ready) continue;
      session.seq += 1;
      session.ws.send(JSON.stringify({ op: 0, t, s: session.seq, d }));
      sent += 1;
    }
    return sent;
  }

  close(): void {
    for (const s of this.#sessions) s.ws.terminate();
    this.#wss.close();
  }

  #accept(ws: WebSocket): void {
    const session = { ws, seq: 0, ready: false };
    this.#sessions.add(session);
    ws.on('close', () => this.#sessions.delete(session));
    ws.send(JSON.stringify({ op: 10, d: { heartbeat_interval: 45_000 } }));
    ws.on('message', (raw) => {
      let packet: { op: number; d: unknown };
      try {
        packet = JSON.parse(String(raw));
      } catch {
        return ws.close(4002, 'Decode error');
      }
      this.#options.onOp(packet.op, packet.d);
      if (packet.op === 1) ws.send(JSON.stringify({ op: 11 }));
      else if (packet.op === 2) this.#identify(session, packet.d as { token?: string });
      else if (packet.op === 6) {
        session.ready = true;
        this.#send(session, 'RESUMED', {});
      }
    });
  }

  #identify(session: { ws: WebSocket; seq: number; ready: boolean }, d: { token?: string }): void {
    const o = this.#options;
    if (d.token !== o.token && d.token !== `Bot ${o.token}`) {
      session.ws.close(4004, 'Authentication failed');
      return;
    }
    session.ready = true;
    this.#send(session, 'READY', {
      v: 10,
      user: o.botUser,
      guilds: [{ id: o.guildId, unavailable: true }],
      session_id: snowflake(),
      resume_gateway_url: 'ws://127.0.0.1/gateway',
      shard: [0, 1],
      application: { id: o.appId, flags: 0 },
    });
    this.#send(session, 'GUILD_CREATE', {
      id: o.guildId,
      name: 'Fake Guild',
      icon: null,
      owner_id: snowflake(),
      roles: [
        {
          id: o.guildId,
          name: '@everyone',
          permissions: '0',
          position: 0,
          color: 0,
          hoist: false,
          managed: false,
          mentionable: false,
          flags: 0,
        },
      ],
      emojis: [],
      stickers: [],
      features: [],
      channels: [{ id: o.channelId, type: 0, name: 'general', position: 0, permission_overwrites: [] }],
      threads: [],
      members: [],
      member_count: 2,
      joined_at: new Date(0).toISOString(),
      large: false,
      unavailable: false,
      voice_states: [],
      presences: [],
      stage_instances: [],
      guild_scheduled_events: [],
      preferred_locale: 'en-US',
    });
    for (const resolve of this.#readyWaiters.splice(0)) resolve();
  }

  #send(session: { ws: WebSocket; seq: number }, t: string, d: unknown): void {
    session.seq += 1;
    session.ws.send(JSON.stringify({ op: 0, t, s: session.seq, d }));
  }
}
