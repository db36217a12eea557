/**
 * The admin web page (issue 17), a Fastify plugin the HTTP adapter registers under /admin: server-rendered HTML
 * pages, a small client script and a stylesheet served from here (no CDN), live updates by server-sent events.
 * This file holds who may enter (see auth.ts), the CSRF check of every POST, the security headers, and signing
 * in and out; the pages and actions are in routes.ts.
 */
import fastifyCookie from '@fastify/cookie';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { toHttpReply } from '../http/error-reply.js';
import {
  type AdminSession,
  AdminSessions,
  COOKIE,
  clearSessionCookie,
  fromThisOrigin,
  isLoopbackCall,
  sameSecret,
  setSessionCookie,
} from './auth.js';
import { ADMIN_SCRIPT } from './client-script.js';
import type { WebDeps } from './deps.js';
import { trusted } from './html.js';
import { type Locale, pickLocale, type Translate, translator } from './i18n.js';
import { layout, type PageFrame } from './layout.js';
import { LiveFeed } from './live.js';
import { signinPage } from './pages/signin.js';
import { pageRoutes } from './routes.js';
import { ADMIN_CSS } from './style.js';

export type { AdminReads, AdminSources } from './deps.js';

/** What every page handler gets: the language, the signed-in session, and the page frame. */
export interface PageContext {
  t: Translate;
  locale: Locale;
  session: AdminSession;
  frame(title: string, section: PageFrame['section']): PageFrame;
}

const CSP =
  "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; media-src 'self'; " +
  "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";
/** A wrong token is answered after this long, so guessing is slow. */
const WRONG_TOKEN_DELAY_MS = 400;
const PUBLIC = new Set(['/admin/login', '/admin/assets/admin.css', '/admin/assets/admin.js']);

export async function adminWeb(app: FastifyInstance, deps: WebDeps): Promise<void> {
  const token = deps.config.API_TOKEN;
  const sessions = new AdminSessions(deps.sessions, deps.now);
  const live = new LiveFeed(deps.service);
  const contexts = new WeakMap<FastifyRequest, AdminSession>();
  app.addHook('preClose', async () => live.close());

  await app.register(fastifyCookie);
  app.addContentTypeParser(
    'application/x-www-form-urlencoded',
    { parseAs: 'string', bodyLimit: 16 * 1024 },
    (_req, body, done) => done(null, Object.fromEntries(new URLSearchParams(String(body)))),
  );

  const lang = (req: FastifyRequest) => pickLocale(req.headers['accept-language']);
  const page = (
    req: FastifyRequest,
    reply: FastifyReply,
    status: number,
    frame: Omit<PageFrame, 't' | 'locale'>,
    body = '',
  ) => {
    const locale = lang(req);
    const markup = layout({ ...frame, t: translator(locale), locale }, trusted(body));
    return reply.status(status).type('text/html; charset=utf-8').send(markup);
  };
  const refuse = (req: FastifyRequest, reply: FastifyReply, status: number) => {
    const t = translator(lang(req));
    const error = status === 404 ? t('error.notFound') : t('error.forbidden');
    return page(req, reply, status, { title: error, section: 'signin', error });
  };

  app.addHook('onSend', async (req, reply, payload) => {
    reply.header('content-security-policy', CSP);
    reply.header('x-content-type-options', 'nosniff');
    reply.header('referrer-policy', 'same-origin');
    if (!req.url.startsWith('/admin/assets/')) reply.header('cache-control', 'no-store');
    return payload;
  });

  // Who may enter. Without a token: loopback callers only, each given a session (and so a CSRF token) at once.
  app.addHook('onRequest', async (req, reply) => {
    const path = req.url.split('?')[0]!;
    if (!token && !isLoopbackCall(req)) return refuse(req, reply, 403);
    if (PUBLIC.has(path)) return;
    let session = await sessions.get(req.cookies[COOKIE]);
    if (!session && !token) {
      session = await sessions.create();
      setSessionCookie(req, reply, session);
    }
    if (!session) {
      if (req.method !== 'GET') return refuse(req, reply, 403);
      return reply.redirect(`/admin/login?next=${encodeURIComponent(req.url)}`, 303);
    }
    contexts.set(req, session);
  });

  // Every state-changing request: from this origin, and (but for signing in) with the session's CSRF token.
  app.addHook('preHandler', async (req, reply) => {
    if (req.method === 'GET' || req.method === 'HEAD') return;
    if (!fromThisOrigin(req, deps.config.PUBLIC_BASE_URL)) return refuse(req, reply, 403);
    if (req.url.split('?')[0] === '/admin/login') return;
    const given = String((req.body as Record<string, unknown> | undefined)?.csrf ?? '');
    const session = contexts.get(req);
    if (!session || !given || !sameSecret(given, session.csrf)) return refuse(req, reply, 403);
  });

  app.get('/assets/admin.css', async (_req, reply) => reply.type('text/css; charset=utf-8').send(ADMIN_CSS));
  app.get('/assets/admin.js', async (_req, reply) => reply.type('text/javascript; charset=utf-8').send(ADMIN_SCRIPT));

  app.get<{ Querystring: { next?: string; wrong?: string } }>('/login', async (req, reply) => {
    const t = translator(lang(req));
    if (!token) return reply.redirect('/admin', 303);
    const body = signinPage(t, safeNext(req.query.next)).text;
    return page(
      req,
      reply,
      req.query.wrong ? 401 : 200,
      {
        title: t('signin.title'),
        section: 'signin',
        ...(req.query.wrong && { error: t('signin.wrong') }),
      },
      body,
    );
  });

  app.post<{ Body: { token?: string; next?: string } }>('/login', async (req, reply) => {
    const next = safeNext(req.body?.next);
    if (!token) return reply.redirect(next, 303);
    if (!sameSecret(String(req.body?.token ?? ''), token)) {
      await new Promise((r) => setTimeout(r, WRONG_TOKEN_DELAY_MS));
      deps.log.warn({ ip: req.ip }, 'admin page: a sign-in with a wrong token');
      return reply.redirect(`/admin/login?wrong=1&next=${encodeURIComponent(next)}`, 303);
    }
    await sessions.end(req.cookies[COOKIE]);
    setSessionCookie(req, reply, await sessions.create());
    return reply.redirect(next, 303);
  });

  app.post('/logout', async (req, reply) => {
    await sessions.end(contexts.get(req)?.id);
    clearSessionCookie(reply);
    return reply.redirect(token ? '/admin/login' : '/admin', 303);
  });

  app.get('/events', async (req, reply) => live.open(req, reply));

  const context = (req: FastifyRequest): PageContext => {
    const locale = lang(req);
    const t = translator(locale);
    const session = contexts.get(req)!;
    return {
      t,
      locale,
      session,
      frame: (title, section) => ({ t, locale, title, section, csrf: session.csrf, canSignOut: !!token }),
    };
  };
  // Errors as a page in the same frame (the API's handler would answer JSON), with the API's status mapping.
  app.setErrorHandler((error, req, reply) => {
    const { status, detail } = toHttpReply(error, 16 * 1024);
    if (status >= 500) deps.log.error({ err: error, url: req.url }, 'admin page failed');
    return page(req, reply, status, { title: detail, section: 'signin', error: detail });
  });
  // Its own prefix is empty: the options this plugin got carry '/admin', which must not apply twice.
  await app.register(pageRoutes, { ...deps, prefix: '', context });
  app.setNotFoundHandler((req, reply) => refuse(req, reply, 404));
}

/** Where to go after signing in: a path of this page only (never another site). */
function safeNext(next: string | undefined): string {
  return next && /^\/admin(?:[/?]|$)/.test(next) && !next.startsWith('//') ? next : '/admin';
}
