/**
 * A fake Doubao on loopback, speaking every call of `shared/doubao-protocol.md` for real, in the 2025 dialect,
 * the 2026 one or both (`dialect` knob; 2026 routes in dialect-2026.ts): prepare_upload hands out random
 * credentials and ImageX calls must carry valid SigV4 signatures made with them (upload-routes.ts); completion
 * streams real SSE; `/chat/<id>` shows the video card once the conversation's video is "ready", and only to the
 * session that owns the conversation. One server plays all hosts. Knobs (mutable at any time) inject the faults
 * the provider must survive, Doubao's in-body error codes among them (in-body-faults.ts).
 */
import { randomBytes, randomInt } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { sampleHevcMp4, sampleImage, sampleMp4 } from '../../support/media-samples.js';
import { requestBody } from '../request-body.js';
import { chatPageHtml, homePageHtml, LOGIN_PAGE_HTML } from './chat-page.js';
import { type FakeContext, listAnswer, mediaPlayInfo, streamCompletion2026, videoPlayInfo } from './dialect-2026.js';
import { answerInBodyFault, DIALECT_2025_PATHS, DIALECT_2026_PATHS } from './in-body-faults.js';
import { PageSigner, type SignatureCounts, type SignatureRefusal, UNSIGNED_REFUSAL } from './page-signer.js';
import { pickRandomFault } from './random-faults.js';
import { createImageStore } from './upload-routes.js';

/** An error Doubao reports inside an HTTP 200 (§8), for the next call whose path contains `path`. */
export interface InBodyFault {
  path: string;
  /** The code in the body (JSON `code`, or a STREAM_ERROR / gateway-error frame on completion paths). */
  code?: number;
  message?: string;
  /** Risk control decided by `shark_admin`. */
  sharkAdmin?: boolean;
  /** A captcha page instead of the answer. */
  captcha?: boolean;
}

/** How the next video request fails. */
export type CompletionFault =
  | 'rate-limit-2005'
  | 'gateway-error'
  | 'truncated-before-start'
  | 'truncated-after-start'
  | 'malformed-event'
  | 'stall';

export interface DoubaoFakeKnobs {
  /** Milliseconds from a video request until its video is ready. */
  readyDelayMs: number;
  /** Per-conversation ready delays, overriding `readyDelayMs`. */
  readyDelayFor: Map<string, number>;
  /** Consumed one per video request, first first. */
  completionFaults: CompletionFault[];
  /** Consumed one per matching request: a status (e.g. 429, 500) or a 200 with a body that is not JSON. */
  httpFaults: Array<{ path: string; status: number; body?: string }>;
  /** Sessions (by `sessionid` cookie) whose login has expired, and how that shows. */
  expired: Map<string, '401' | 'redirect'>;
  /** Videos a guest may ask for before "tourist conversation reach limited". */
  guestLimit: number;
  /** Pause between SSE events, ms. */
  streamDelayMs: number;
  /** Share (0–1) of upstream calls that fail at random (see random-faults.ts). @defaultValue 0 */
  randomFaultRate: number;
  /** Refuse web API calls that no page signed (page-signer.ts). @defaultValue false */
  requireSignature: boolean;
  /** How an unsigned call is refused: an error code in an HTTP 200, or a 403. @defaultValue 'body' */
  signatureRefusal: SignatureRefusal;
  /** The finished video's codec: Doubao sometimes serves HEVC. @defaultValue 'h264' */
  videoCodec: 'h264' | 'hevc';
  /** Which web protocol the fake speaks: the other dialect's endpoints answer 404. @defaultValue 'both' */
  dialect: '2025' | '2026' | 'both';
  /** Consumed one per matching call: Doubao's in-body errors of §8. */
  bodyFaults: InBodyFault[];
  /** How the list shows a finished video: with its URL, by id only, or by id without any status. */
  listShape: 'download_url' | 'vid_only' | 'no_status';
  /** `ai_creation_res_code`s the next 2026 video requests are refused with (one per request). */
  refuseNext: number[];
  /** The host:port ApplyImageUpload names in `UploadHosts` (default: the fake itself); null names none. */
  uploadHost: string | null | undefined;
  /** How the upload store says yes: 2026 (`code` 2000 + crc32), 2025 (`"Success"`), both, or a wrong crc32. */
  storeAnswer: 'both' | '2026' | '2025' | 'wrong-crc';
}

export interface FakeConversation {
  owner: string;
  prompt: string;
  attachments: string[];
  createdAt: number;
  messageId?: string;
  /** The video's id (2026 dialect). */
  vid?: string;
  dialect?: '2025' | '2026';
  /** The 2026 request's `ability_param` ratio and duration (the 2025 body has no such fields). */
  ratio?: string;
  duration?: number;
  /** The 2026 text block as sent (`生成视频：<prompt>，<ratio>`). */
  text?: string;
  /** The `ai_creation_res_code` this video was refused with. */
  refusal?: number;
}

export interface DoubaoFake {
  baseUrl: string;
  imagexUrl: string;
  uploadUrl: string;
  knobs: DoubaoFakeKnobs;
  conversations: Map<string, FakeConversation>;
  /** Highest number of requests one session had in flight at once. */
  maxInFlight(owner: string): number;
  /** How many calls the random-fault knob has failed so far. */
  randomFaults(): number;
  /** Requests seen, by path, with the session they came from and when they arrived (epoch ms), for assertions. */
  requests: Array<{ path: string; owner: string | undefined; at: number }>;
  /** Signed and unsigned web API calls, and pages that were issued a signing secret. */
  signatures: SignatureCounts;
  /** Every web API call the signature gate saw (path, owner, signed, refused), first first. */
  gatedCalls: PageSigner['calls'];
  close(): Promise<void>;
}

/** The fake's notion of who is calling: the `sessionid` cookie, or a guest's `ttwid`. */
export function cookieOwner(cookie: string | undefined): string | undefined {
  const jar = new Map(
    (cookie ?? '').split(/;\s*/).map((p) => [p.slice(0, p.indexOf('=')), p.slice(p.indexOf('=') + 1)]),
  );
  return jar.get('sessionid') ?? jar.get('ttwid');
}

function json(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const digits = (n: number) =>
  Array.from({ length: n }, (_, i) => (i === 0 ? randomInt(1, 10) : randomInt(10))).join('');

export async function startDoubaoFake(overrides: Partial<DoubaoFakeKnobs> = {}): Promise<DoubaoFake> {
  const knobs: DoubaoFakeKnobs = {
    readyDelayMs: 0,
    readyDelayFor: new Map(),
    completionFaults: [],
    httpFaults: [],
    expired: new Map(),
    guestLimit: 2,
    streamDelayMs: 0,
    randomFaultRate: 0,
    requireSignature: false,
    signatureRefusal: 'body',
    videoCodec: 'h264',
    dialect: 'both',
    bodyFaults: [],
    listShape: 'download_url',
    refuseNext: [],
    uploadHost: undefined,
    storeAnswer: 'both',
    ...overrides,
  };
  const signer = new PageSigner();
  const mp4 = sampleMp4();
  const thumbnail = sampleImage('png', 160, 90);
  const imageStore = createImageStore(knobs);
  const images = imageStore.images;
  const conversations = new Map<string, FakeConversation>();
  const guestUse = new Map<string, number>();
  const videoTokens = new Set<string>();
  const inFlight = new Map<string, number>();
  const peak = new Map<string, number>();
  const requests: DoubaoFake['requests'] = [];
  const sockets = new Set<import('node:net').Socket>();
  let randomFaults = 0;

  const isReady = (id: string, c: FakeConversation) =>
    Date.now() - c.createdAt >= (knobs.readyDelayFor.get(id) ?? knobs.readyDelayMs);

  /** The web API's login gate: an expired session gets a 401 or a redirect to the login page. */
  function refusedLogin(req: IncomingMessage, res: ServerResponse): boolean {
    const sessionid = /(?:^|;\s*)sessionid=([^;]+)/.exec(String(req.headers.cookie ?? ''))?.[1];
    const how = sessionid ? knobs.expired.get(sessionid) : undefined;
    if (!how) return false;
    if (how === 'redirect') res.writeHead(302, { location: '/login?redirect=chat' }).end();
    else json(res, 401, { code: 710012001, message: 'login expired' });
    return true;
  }

  function webClientProblem(url: URL): string | null {
    for (const key of ['aid', 'device_id', 'tea_uuid', 'web_id', 'samantha_web']) {
      if (!url.searchParams.get(key)) return `missing ${key}`;
    }
    return null;
  }

  async function route(req: IncomingMessage, res: ServerResponse, url: URL, owner: string | undefined) {
    const path = url.pathname;
    const fault = knobs.httpFaults.findIndex((f) => path.includes(f.path));
    if (fault >= 0) {
      const [f] = knobs.httpFaults.splice(fault, 1);
      await requestBody(req);
      res.writeHead(f!.status, { 'content-type': 'application/json' }).end(f!.body ?? '{"code":-1}');
      return;
    }
    const inBody = knobs.bodyFaults.findIndex((f) => path.includes(f.path));
    if (inBody >= 0) {
      const [f] = knobs.bodyFaults.splice(inBody, 1);
      await requestBody(req);
      return answerInBodyFault(res, path, f!);
    }
    const other = knobs.dialect === '2025' ? DIALECT_2026_PATHS : knobs.dialect === '2026' ? DIALECT_2025_PATHS : [];
    if (other.includes(path)) return json(res, 404, { message: `no route ${req.method} ${path}` });

    if (req.method === 'POST' && path === '/alice/resource/prepare_upload') {
      const body = JSON.parse((await requestBody(req)).toString() || '{}');
      if (refusedLogin(req, res)) return;
      if (webClientProblem(url) || body.resource_type !== 2) return json(res, 400, { code: 1, message: 'bad request' });
      return json(res, 200, { code: 0, data: imageStore.issueCredentials() });
    }

    if (await imageStore.handle(req, res, url)) return;

    if (req.method === 'POST' && path === '/samantha/chat/completion') {
      const body = JSON.parse((await requestBody(req)).toString() || '{}');
      if (refusedLogin(req, res)) return;
      if (webClientProblem(url) || !req.headers['x-flow-trace'] || !owner) return json(res, 400, { code: 1 });
      return streamCompletion(res, body, owner, !/(?:^|;\s*)sessionid=/.test(String(req.headers.cookie)));
    }

    if (req.method === 'GET' && path.startsWith('/chat/')) {
      if (refusedLogin(req, res)) return;
      const id = decodeURIComponent(path.slice('/chat/'.length));
      const c = conversations.get(id);
      const state = !c || c.owner !== owner ? 'unknown' : isReady(id, c) ? 'ready' : 'generating';
      res
        .writeHead(200, { 'content-type': 'text/html; charset=utf-8' })
        .end(chatPageHtml(id, state, signer.script(owner)));
      return;
    }

    if (req.method === 'POST' && path === '/chat/completion') {
      const body = JSON.parse((await requestBody(req)).toString() || '{}');
      if (refusedLogin(req, res)) return;
      const client2026 = url.searchParams.get('web_platform') === 'browser' && url.searchParams.has('web_tab_id');
      if (webClientProblem(url) || !client2026 || !req.headers['x-flow-trace'] || !owner) {
        return json(res, 400, { code: 1, message: 'not the 2026 web client' });
      }
      return streamCompletion2026(res, body, owner, !/(?:^|;\s*)sessionid=/.test(String(req.headers.cookie)), ctx);
    }

    if (req.method === 'POST' && path === '/im/chain/single') {
      const body = JSON.parse((await requestBody(req)).toString() || '{}');
      if (refusedLogin(req, res)) return;
      if (req.headers['content-type'] !== 'application/json; encoding=utf-8') {
        return json(res, 200, { code: 712012002, message: 'invalid content type' });
      }
      return json(res, 200, listAnswer(req, body, owner, ctx));
    }

    if (req.method === 'POST' && path === '/samantha/video/get_play_info') {
      const body = JSON.parse((await requestBody(req)).toString() || '{}');
      if (refusedLogin(req, res)) return;
      return json(res, 200, videoPlayInfo(req, body, owner, ctx));
    }

    if (req.method === 'POST' && path === '/samantha/media/get_play_info') {
      const body = JSON.parse((await requestBody(req)).toString() || '{}');
      if (refusedLogin(req, res)) return;
      if (body.key !== undefined) return json(res, 200, mediaPlayInfo(req, body, owner, ctx));
      const id = body.conversation_id;
      const c = conversations.get(id);
      if (!c || c.owner !== owner || !isReady(id, c)) return json(res, 200, { code: 0, data: { play_infos: [] } });
      const token = randomBytes(12).toString('hex');
      videoTokens.add(token);
      const main = `${new URL(`http://${req.headers.host}`).origin}/douyinvod/${token}/video.mp4`;
      return json(res, 200, { code: 0, data: { play_infos: [{ main_url: main, definition: '720p' }] } });
    }

    const video = /^\/douyinvod\/([0-9a-f]+)\/video\.mp4$/.exec(path) ?? /^\/video\/tos\/cn\/([0-9a-f]+)\/$/.exec(path);
    if (req.method === 'GET' && video && videoTokens.has(video[1]!)) {
      const file = knobs.videoCodec === 'hevc' ? sampleHevcMp4() : mp4;
      res.writeHead(200, { 'content-type': 'video/mp4', 'content-length': file.length }).end(file);
      return;
    }
    if (req.method === 'GET' && path.startsWith('/thumb/')) {
      res.writeHead(200, { 'content-type': 'image/png' }).end(thumbnail);
      return;
    }
    if (req.method === 'GET' && path === '/') {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(homePageHtml(signer.script(owner)));
      return;
    }
    if (req.method === 'GET' && path === '/login') {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(LOGIN_PAGE_HTML);
      return;
    }
    json(res, 404, { message: `no route ${req.method} ${path}` });
  }

  /** Refuses an unsigned web API call when `requireSignature` is on; otherwise routes it. */
  async function signatureGate(req: IncomingMessage, res: ServerResponse, url: URL, owner: string | undefined) {
    const body = req.method === 'POST' ? (await requestBody(req)).toString() : '';
    if (!signer.check(req, url, body, owner, knobs.requireSignature)) return route(req, res, url, owner);
    if (knobs.signatureRefusal === '403') return json(res, 403, { message: 'Forbidden' });
    json(res, 200, { ...UNSIGNED_REFUSAL, data: null });
  }

  async function streamCompletion(res: ServerResponse, body: Record<string, unknown>, owner: string, guest: boolean) {
    const message = (body.messages as Array<Record<string, unknown>> | undefined)?.[0];
    const send = async (data: unknown, event?: string) => {
      if (knobs.streamDelayMs) await sleep(knobs.streamDelayMs);
      const frame = `${event ? `event: ${event}\n` : ''}data: ${typeof data === 'string' ? data : JSON.stringify(data)}\n\n`;
      await new Promise((resolve) => res.write(frame, resolve)); // flushed, so a cut right after still delivers it
    };
    const emit = (eventType: number, eventData: unknown) =>
      send({ event_type: eventType, event_data: JSON.stringify(eventData) });
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
    res.flushHeaders();
    const fault = knobs.completionFaults.shift();
    if (fault === 'stall') return; // headers sent, then silence: the client's idle timeout must end it
    if (fault === 'gateway-error') {
      await send({ code: 710022005, message: 'content not allowed' }, 'gateway-error');
      return res.end();
    }
    if (fault === 'rate-limit-2005') {
      await emit(2005, { code: 710022004, message: 'rate limited' });
      return res.end();
    }
    if (fault === 'truncated-before-start' || fault === 'malformed-event') {
      if (fault === 'malformed-event') await send('{"event_type": 2002, "event_data": ');
      return res.destroy();
    }
    if (guest && (guestUse.get(owner) ?? 0) >= knobs.guestLimit) {
      await emit(2001, {
        message: { content_type: 2001, content: JSON.stringify({ text: 'tourist conversation reach limited' }) },
      });
      return res.end();
    }
    const attachments = (message?.attachments as Array<{ key?: string }> | undefined) ?? [];
    if (message?.content_type !== 2020 || attachments.some((a) => !images.has(String(a.key)))) {
      await send({ code: 710022001, message: 'invalid video request' }, 'gateway-error');
      return res.end();
    }
    if (guest) guestUse.set(owner, (guestUse.get(owner) ?? 0) + 1);
    const ids = { conversation_id: digits(19), message_id: digits(19), section_id: digits(19) };
    const prompt = JSON.parse(String(message.content)).text as string;
    conversations.set(ids.conversation_id, {
      owner,
      prompt,
      attachments: attachments.map((a) => String(a.key)),
      createdAt: Date.now(),
      messageId: ids.message_id,
      vid: `v0${randomBytes(10).toString('hex')}`,
      dialect: '2025',
    });
    await emit(2002, ids);
    if (fault === 'truncated-after-start') return res.destroy();
    await emit(2001, { message: { content_type: 2001, content: JSON.stringify({ text: '好的，正在为你生成视频' }) } });
    await emit(2003, {});
    res.end();
  }

  const ctx: FakeContext = {
    knobs,
    conversations,
    images,
    videoTokens,
    isReady,
    newIds: () => ({ conversation_id: digits(19), message_id: digits(19), section_id: digits(19) }),
    json,
    guestTurn: (owner, guest) => {
      if (!guest) return true;
      if ((guestUse.get(owner) ?? 0) >= knobs.guestLimit) return false;
      guestUse.set(owner, (guestUse.get(owner) ?? 0) + 1);
      return true;
    },
  };

  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://fake');
    const owner = cookieOwner(req.headers.cookie);
    requests.push({ path: url.pathname, owner, at: Date.now() });
    const key = owner ?? '-';
    inFlight.set(key, (inFlight.get(key) ?? 0) + 1);
    peak.set(key, Math.max(peak.get(key) ?? 0, inFlight.get(key)!));
    res.on('close', () => inFlight.set(key, inFlight.get(key)! - 1));
    const dice = pickRandomFault(url.pathname, url.searchParams.has('Action'), knobs.randomFaultRate);
    randomFaults += dice ? 1 : 0;
    if (dice?.kind === 'stall') return; // never answered: the client's own time limit must end it
    if (dice?.kind === 'http') knobs.httpFaults.unshift({ path: url.pathname, status: dice.status, body: dice.body });
    if (dice?.kind === 'stream') knobs.completionFaults.unshift(dice.fault);
    signatureGate(req, res, url, owner).catch((error: Error) => {
      if (!res.headersSent) json(res, 500, { message: error.message });
      else res.destroy();
    });
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    baseUrl,
    imagexUrl: baseUrl,
    uploadUrl: baseUrl,
    knobs,
    conversations,
    requests,
    signatures: signer.counts,
    gatedCalls: signer.calls,
    maxInFlight: (owner) => peak.get(owner) ?? 0,
    randomFaults: () => randomFaults,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}
