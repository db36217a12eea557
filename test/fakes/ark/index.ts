/**
 * A fake Volcengine Ark video generation tasks API on a real socket (127.0.0.1, port 0): bearer check, create,
 * get, delete (cancel) and list under `/api/v3/contents/generations/tasks`, status progression
 * queued → running → succeeded with knob-controlled timing, Ark's `{error: {code, message}}` bodies, a 429
 * injector, and a served MP4 as `content.video_url` (or a 403, as an expired signed link answers). Generation
 * options are checked as Ark checks the top-level fields (`ratio`, `duration`, `resolution`: a value outside
 * Seedance's is a 400 InvalidParameter) and echoed by Get, with Ark's defaults for those not sent.
 *
 * A task's status is computed from its age and the knobs at the moment it is read, so a test can hold tasks in
 * `queued` or `running` and release them later by changing a knob.
 */
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { sampleMp4 } from '../../support/media-samples.js';
import { requestBody } from '../request-body.js';

export interface ArkKnobs {
  /** The key the fake accepts. */
  apiKey: string;
  /** How long a new task stays `queued`, then `running`. */
  queuedMs: number;
  runningMs: number;
  /** Answer the next N API requests with 429. */
  rateLimitNext: number;
  /** Every create fails with this (e.g. a content-policy refusal of the prompt). */
  createError?: { status: number; code: string; message: string };
  /** Tasks end `failed` with this error instead of `succeeded`. */
  failWith?: { code: string; message: string };
  /** The video link answers 403, as an expired signed URL does. */
  expiredVideo: boolean;
}

export const defaultArkKnobs: ArkKnobs = {
  apiKey: 'fake-ark-key',
  queuedMs: 100,
  runningMs: 200,
  rateLimitNext: 0,
  expiredVideo: false,
};

export interface FakeArkTask {
  id: string;
  /** The create request's body, as received. */
  body: { model: string; content: unknown[]; callback_url?: string; [key: string]: unknown };
  createdAt: number;
  cancelled: boolean;
}

type Status = 'queued' | 'running' | 'succeeded' | 'failed' | 'cancelled';

/** What Seedance takes (its docs, 2025-11): `adaptive` keeps an input image's ratio; 2–12 s; three resolutions. */
const ARK_RATIOS = ['16:9', '4:3', '1:1', '3:4', '9:16', '21:9', 'adaptive'];
const ARK_RESOLUTIONS = ['480p', '720p', '1080p'];
const validDuration = (d: unknown) => Number.isInteger(d) && (d as number) >= 2 && (d as number) <= 12;

/** The first top-level generation option Ark would refuse, or undefined. */
function invalidOption(body: FakeArkTask['body']): string | undefined {
  if (body.ratio !== undefined && !ARK_RATIOS.includes(String(body.ratio))) return 'ratio';
  if (body.duration !== undefined && !validDuration(body.duration)) return 'duration';
  if (body.resolution !== undefined && !ARK_RESOLUTIONS.includes(String(body.resolution))) return 'resolution';
  return undefined;
}
const TASKS = '/api/v3/contents/generations/tasks';

export interface ArkFake {
  baseUrl: string;
  /** What ARK_BASE_URL points at: `${baseUrl}/api/v3`. */
  apiUrl: string;
  knobs: ArkKnobs;
  /** Every task created, oldest first. */
  tasks: FakeArkTask[];
  /** Every request, as `METHOD /path`. */
  requests: string[];
  statusOf(id: string): Status;
  /** The body Ark posts to a task's `callback_url`: the task as Get shows it. */
  describe(id: string): Record<string, unknown>;
  close(): Promise<void>;
}

export async function startArkFake(knobs: Partial<ArkKnobs> = {}): Promise<ArkFake> {
  const video = sampleMp4();
  const state: ArkKnobs = { ...defaultArkKnobs, ...knobs };
  const tasks = new Map<string, FakeArkTask>();
  const requests: string[] = [];
  let baseUrl = '';

  const statusOf = (id: string): Status => {
    const task = tasks.get(id)!;
    if (task.cancelled) return 'cancelled';
    const age = Date.now() - task.createdAt;
    if (age < state.queuedMs) return 'queued';
    if (age < state.queuedMs + state.runningMs) return 'running';
    return state.failWith ? 'failed' : 'succeeded';
  };

  const describe = (id: string) => {
    const task = tasks.get(id)!;
    const status = statusOf(id);
    return {
      id,
      model: task.body.model,
      status,
      ratio: task.body.ratio ?? '16:9',
      duration: task.body.duration ?? 5,
      resolution: task.body.resolution ?? '720p',
      framespersecond: 24,
      ...(status === 'succeeded' && { content: { video_url: `${baseUrl}/videos/${id}.mp4?X-Tos-Expires=86400` } }),
      ...(status === 'failed' && { error: state.failWith }),
      created_at: Math.floor(task.createdAt / 1000),
      updated_at: Math.floor(Date.now() / 1000),
    };
  };

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://fake');
    requests.push(`${req.method} ${url.pathname}`);
    const send = (status: number, body: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
    };
    const fail = (status: number, code: string, message: string) => send(status, { error: { code, message } });

    if (url.pathname.startsWith('/videos/')) {
      if (state.expiredVideo) return void res.writeHead(403).end('AccessDenied: Request has expired');
      return void res.writeHead(200, { 'content-type': 'video/mp4', 'content-length': video.length }).end(video);
    }
    if (!url.pathname.startsWith(TASKS)) return fail(404, 'NotFound', 'no such route');
    if (req.headers.authorization !== `Bearer ${state.apiKey}`) {
      return fail(401, 'AuthenticationError', 'The API key in the request is missing or invalid.');
    }
    if (state.rateLimitNext > 0) {
      state.rateLimitNext--;
      return fail(429, 'RateLimitExceeded', 'Your account has exceeded the rate limit. Please try again later.');
    }
    const id = decodeURIComponent(url.pathname.slice(TASKS.length + 1));

    if (req.method === 'POST' && !id) {
      const body = JSON.parse((await requestBody(req)).toString('utf8')) as FakeArkTask['body'];
      if (state.createError) return fail(state.createError.status, state.createError.code, state.createError.message);
      if (typeof body.model !== 'string' || !Array.isArray(body.content)) {
        return fail(400, 'InvalidParameter', 'model and content are required');
      }
      const invalid = invalidOption(body);
      if (invalid) {
        return fail(400, 'InvalidParameter', `The parameter \`${invalid}\` specified in the request is not valid.`);
      }
      const task: FakeArkTask = {
        id: `cgt-${randomBytes(6).toString('hex')}`,
        body,
        createdAt: Date.now(),
        cancelled: false,
      };
      tasks.set(task.id, task);
      return send(200, { id: task.id });
    }
    if (req.method === 'GET' && !id) {
      const page = Number(url.searchParams.get('page_num') ?? 1);
      const size = Number(url.searchParams.get('page_size') ?? 10);
      const wanted = url.searchParams.get('filter.status');
      const items = [...tasks.keys()]
        .reverse()
        .map(describe)
        .filter((t) => !wanted || t.status === wanted);
      return send(200, { items: items.slice((page - 1) * size, page * size), total: items.length });
    }
    if (!tasks.has(id)) return fail(404, 'ResourceNotFound', `The specified task ${id} is not found.`);
    if (req.method === 'GET') return send(200, describe(id));
    if (req.method === 'DELETE') {
      const status = statusOf(id);
      if (status !== 'queued') {
        return fail(409, 'InvalidAction.TaskStatus', `The task in status ${status} cannot be cancelled.`);
      }
      tasks.get(id)!.cancelled = true;
      return send(200, {});
    }
    return fail(405, 'MethodNotAllowed', `${req.method} is not supported here`);
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((error: Error) => {
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: { code: 'InternalServiceError', message: error.message } }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  baseUrl = `http://127.0.0.1:${port}`;
  return {
    baseUrl,
    apiUrl: `${baseUrl}/api/v3`,
    knobs: state,
    get tasks() {
      return [...tasks.values()];
    },
    requests,
    statusOf,
    describe,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
