/**
 * Who may use the admin page, and CSRF safety. With API_TOKEN set, an operator signs in with it and gets a random
 * session id in an HttpOnly, SameSite=Strict cookie; the session is kept in the database by the hash of its id, so
 * it outlives a restart and every process sharing the database (behind one load balancer) knows it. Without a token the page answers loopback callers only (addressed by a loopback name, so a
 * DNS-rebound site cannot read it), each given a session on first visit. Every POST must come from this origin
 * (Origin / Sec-Fetch-Site) and carry the session's CSRF token.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { isLoopbackHost } from '../../src/config.js';
import type { TaskStoreAsync } from '../../src/core/index.js';

export const COOKIE = 'dvb_admin';
const TTL_MS = 12 * 3_600_000;

export interface AdminSession {
  id: string;
  csrf: string;
  expiresAt: number;
}

/** Where sessions are kept: the store (SQLite or PostgreSQL), which keeps only a hash of each id. */
export type AdminSessionStore = Pick<TaskStoreAsync, 'keepAdminSession' | 'adminSession' | 'endAdminSession'>;

export class AdminSessions {
  readonly #store: AdminSessionStore;
  readonly #now: () => number;

  constructor(store: AdminSessionStore, now: () => number = Date.now) {
    this.#store = store;
    this.#now = now;
  }

  async create(): Promise<AdminSession> {
    const session = { id: token(), csrf: token(), expiresAt: this.#now() + TTL_MS };
    await this.#store.keepAdminSession(idHash(session.id), session.csrf, session.expiresAt);
    return session;
  }

  async get(id: string | undefined): Promise<AdminSession | undefined> {
    const kept = id ? await this.#store.adminSession(idHash(id)) : undefined;
    return kept && id ? { id, ...kept } : undefined;
  }

  async end(id: string | undefined): Promise<void> {
    if (id) await this.#store.endAdminSession(idHash(id));
  }
}

const token = () => randomBytes(24).toString('base64url');
const digest = (value: string) => createHash('sha256').update(value).digest();
/** What the database keeps of a session id: a leaked table gives no usable cookie. */
const idHash = (id: string) => digest(id).toString('hex');

/** Constant-time comparison of two secrets of any length. */
export function sameSecret(given: string, expected: string): boolean {
  return timingSafeEqual(digest(given), digest(expected));
}

/** The caller is on this machine and named it by a loopback name (the API's notion of loopback, config.ts). */
export function isLoopbackCall(req: FastifyRequest): boolean {
  const remote = (req.socket.remoteAddress ?? '').replace(/^::ffff:/, '');
  const host = (req.headers.host ?? '').replace(/:\d+$/, '');
  return isLoopbackHost(remote) && isLoopbackHost(host);
}

/**
 * The request was sent by a page of this very origin: a browser's Sec-Fetch-Site says so, and an Origin header, when
 * present, names this host (or PUBLIC_BASE_URL's, behind a proxy). A request with neither is not a browser's
 * cross-site form; it still needs the CSRF token.
 */
export function fromThisOrigin(req: FastifyRequest, publicBaseUrl: string): boolean {
  const site = req.headers['sec-fetch-site'];
  if (site !== undefined && site !== 'same-origin') return false;
  const origin = req.headers.origin;
  if (origin === undefined) return true;
  try {
    const { host } = new URL(origin);
    return host === req.headers.host || host === new URL(publicBaseUrl).host;
  } catch {
    return false;
  }
}

export function setSessionCookie(req: FastifyRequest, reply: FastifyReply, session: AdminSession): void {
  reply.setCookie(COOKIE, session.id, {
    path: '/admin',
    httpOnly: true,
    sameSite: 'strict',
    secure: req.protocol === 'https',
    maxAge: TTL_MS / 1000,
  });
}

export function clearSessionCookie(reply: FastifyReply): void {
  reply.clearCookie(COOKIE, { path: '/admin' });
}
