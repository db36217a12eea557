/**
 * ArkClient speaks the Ark video generation tasks API (`{base}/contents/generations/tasks`): create, get, cancel
 * (DELETE) and list, with `Authorization: Bearer <key>`, through one undici Agent and a bottleneck limiter.
 * Every failure leaves as an UpstreamError (see errors.ts). The key is only ever put in a request header: it is
 * not part of any URL, message or logged object.
 */
import Bottleneck from 'bottleneck';
import { Agent, type Dispatcher, request } from 'undici';
import type { UpstreamError } from '../../core/errors.js';
import { type ArkErrorBody, arkHttpError, arkNetworkError } from './errors.js';

export type ArkStatus = 'queued' | 'running' | 'succeeded' | 'failed' | 'cancelled';

/** A task as Get and List describe it (the fields we use). `created_at`/`updated_at` are Unix seconds. */
export interface ArkTask {
  id: string;
  model?: string;
  status: ArkStatus;
  content?: { video_url?: string };
  error?: ArkErrorBody | null;
  created_at?: number;
  updated_at?: number;
}

/** One item of a create request's `content`. */
export type ArkContent = { type: 'text'; text: string } | { type: 'image_url'; image_url: { url: string } };

export interface ArkCreateBody {
  model: string;
  content: ArkContent[];
  ratio?: string;
  duration?: number;
  resolution?: string;
  callback_url?: string;
}

export interface ArkClientOptions {
  apiKey: string;
  /** e.g. `https://ark.cn-beijing.volces.com/api/v3`. */
  baseUrl: string;
  /** Requests in flight at once. @defaultValue 4 */
  maxConcurrentRequests?: number;
  /** Time limit of one request. @defaultValue 30000 */
  timeoutMs?: number;
  /** Where requests go through (a proxy agent); absent → a keep-alive agent of its own. */
  dispatcher?: Dispatcher;
}

/** Thrown by `cancel` when Ark answered, but refused (the task is running or already ended). */
export class ArkCancelRefused extends Error {
  override readonly name = 'ArkCancelRefused';
}

export class ArkClient {
  readonly #key: string;
  readonly #tasksUrl: string;
  readonly #timeoutMs: number;
  readonly #agent: Dispatcher;
  readonly #limiter: Bottleneck;

  constructor(options: ArkClientOptions) {
    if (!options.apiKey) throw new Error('Expected `apiKey` to be a non-empty Ark API key');
    this.#key = options.apiKey;
    this.#tasksUrl = `${options.baseUrl.replace(/\/+$/, '')}/contents/generations/tasks`;
    this.#timeoutMs = options.timeoutMs ?? 30_000;
    this.#agent = options.dispatcher ?? new Agent({ keepAliveTimeout: 10_000 });
    this.#limiter = new Bottleneck({ maxConcurrent: options.maxConcurrentRequests ?? 4 });
  }

  async create(body: ArkCreateBody): Promise<string> {
    const { id } = (await this.#call('POST', '', 'create a video task', body)) as { id?: unknown };
    if (typeof id !== 'string' || !id) throw arkHttpError(502, { message: 'the answer had no task id' }, 'create');
    return id;
  }

  async get(id: string): Promise<ArkTask> {
    return (await this.#call('GET', `/${encodeURIComponent(id)}`, 'look at the video task')) as ArkTask;
  }

  /**
   * Cancels a queued task; a task Ark no longer knows counts as cancelled.
   * @throws ArkCancelRefused when Ark answers but will not cancel it.
   */
  async cancel(id: string): Promise<void> {
    try {
      await this.#call('DELETE', `/${encodeURIComponent(id)}`, 'cancel the video task');
    } catch (error) {
      const refused = (error as UpstreamError & { status?: number }).status;
      if (refused === 404) return;
      if (refused && refused >= 400 && refused < 500 && ![401, 403, 429].includes(refused)) {
        throw new ArkCancelRefused((error as Error).message, { cause: error });
      }
      throw error;
    }
  }

  /** One page of the account's tasks, newest first. */
  async list(page: number, pageSize: number, status?: ArkStatus): Promise<{ items: ArkTask[]; total: number }> {
    const query = new URLSearchParams({ page_num: String(page), page_size: String(pageSize) });
    if (status) query.set('filter.status', status);
    const body = (await this.#call('GET', `?${query}`, 'list video tasks')) as { items?: ArkTask[]; total?: number };
    return { items: body.items ?? [], total: body.total ?? 0 };
  }

  async close(): Promise<void> {
    await this.#agent.close();
  }

  #call(method: string, path: string, action: string, body?: unknown): Promise<unknown> {
    return this.#limiter.schedule(async () => {
      let res: Awaited<ReturnType<typeof request>>;
      try {
        res = await request(`${this.#tasksUrl}${path}`, {
          method: method as 'GET',
          dispatcher: this.#agent,
          headers: {
            authorization: `Bearer ${this.#key}`,
            accept: 'application/json',
            ...(body !== undefined && { 'content-type': 'application/json' }),
          },
          body: body === undefined ? undefined : JSON.stringify(body),
          headersTimeout: this.#timeoutMs,
          bodyTimeout: this.#timeoutMs,
        });
      } catch (error) {
        throw arkNetworkError(error, action);
      }
      let text: string;
      try {
        text = await res.body.text();
      } catch (error) {
        throw arkNetworkError(error, action);
      }
      const parsed = parseJson(text);
      if (res.statusCode >= 400) {
        const error = (parsed as { error?: ArkErrorBody } | undefined)?.error ?? {};
        throw Object.assign(arkHttpError(res.statusCode, error, action), { status: res.statusCode });
      }
      if (parsed === undefined && text) throw arkHttpError(502, { message: 'the answer was not JSON' }, action);
      return parsed ?? {};
    });
  }
}

function parseJson(text: string): unknown {
  try {
    return text ? JSON.parse(text) : undefined;
  } catch {
    return undefined;
  }
}
