/**
 * Who may use the admin page, and CSRF safety. With API_TOKEN set, an operator signs in with it and gets a random
 * session id in an HttpOnly, SameSite=Strict cookie (the session itself stays in memory here: a restart signs
 * everyone out). Without a token the page answers loopback callers only (addressed by a loopback name, so a
 * DNS-rebound site cannot read it), each given a session on first visit. Every POST must come from this origin
 * (Origin / Sec-Fetch-Site) and carry the session's CSRF token.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { isLoopbackHost } from '../../src/config.js';

export const COOKIE = 'dvb_admin';
const TTL_MS = 12 * 3_600_000;
/** Sessions kept at most; the oldest goes first (sign-ins are rare, so this only bounds memory). */
const MAX_SESSIONS = 1_000;

export interface AdminSession {
  id: string;
  csrf: string;
  expiresAt: number;
}

export class AdminSessions {
  readonly #sessions = new Map<string, AdminSession>();
  readonly #now: () => number;

  constructor(now: () => number = Date.now) {
    this.#now = now;
  }

  create(): AdminSession {
    const session = { id: token(), csrf: token(), expiresAt: this.#now() + TTL_MS };
    this.#sessions.set(session.id, session);
    if (this.#sessions.size > MAX_SESSIONS) this.#sessions.delete(this.#sessions.keys().next().value!);
    return session;
  }

  get(id: string | undefined): AdminSession | undefined {
    const session = id ? this.#sessions.get(id) : undefined;
    if (session && session.expiresAt <= this.#now()) {
      this.#sessions.delete(session.id);
      return undefined;
    }
    return session;
  }

  end(id: string | undefined): void {
    if (id) this.#sessions.delete(id);
  }
}

const token = () => randomBytes(24).toString('base64url');
const digest = (value: string) => createHash('sha256').update(value).digest();

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
