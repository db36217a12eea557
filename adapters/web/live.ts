/**
 * Live updates for the admin page: server-sent events from the core's task events. One listener per event on the
 * service fans out to every open page, so pages do not add listeners to the core. A task is sent as the few
 * fields the page shows (never its origin, which holds chat reply tokens). Open streams end when the app closes.
 */
import type { ServerResponse } from 'node:http';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { GenerationService, Task, TaskEventName } from '../../src/core/index.js';

const TASK_EVENTS = ['queued', 'started', 'progress', 'completed', 'failed', 'cancelled', 'delivered'] as const;
/** A comment line this often keeps proxies from closing a quiet stream. */
const HEARTBEAT_MS = 25_000;

export function liveTask(task: Task) {
  return {
    id: task.id,
    status: task.status,
    prompt: [...task.prompt].slice(0, 80).join(''),
    provider: task.provider,
    platform: task.origin.platform,
    userId: task.origin.userId,
    createdAt: task.createdAt,
    attempts: task.attempts,
    maxAttempts: task.maxAttempts,
    progress: task.progress,
    error: task.error,
    videoUrl: task.videoFile ? `/videos/${encodeURIComponent(task.videoFile)}` : null,
    updatedAt: task.updatedAt,
  };
}

export class LiveFeed {
  readonly #clients = new Set<ServerResponse>();
  readonly #service: GenerationService;
  readonly #listeners: [TaskEventName, (arg: never) => void][] = [];
  readonly #heartbeat: NodeJS.Timeout;

  constructor(service: GenerationService) {
    this.#service = service;
    for (const name of TASK_EVENTS) {
      const listener = (task: Task) => this.#send('task', { event: name, ...liveTask(task) });
      service.on(name, listener);
      this.#listeners.push([name, listener]);
    }
    const onIncident = () => this.#send('incident', {});
    service.on('incident', onIncident);
    this.#listeners.push(['incident', onIncident]);
    this.#heartbeat = setInterval(() => this.#write(': keep-alive\n\n'), HEARTBEAT_MS).unref();
  }

  /** Takes over the response as an event stream until the page goes away. */
  open(req: FastifyRequest, reply: FastifyReply): void {
    reply.hijack();
    const res = reply.raw;
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-store',
      'x-accel-buffering': 'no',
      connection: 'keep-alive',
    });
    res.write('retry: 3000\n\n');
    this.#clients.add(res);
    req.raw.on('close', () => this.#clients.delete(res));
  }

  close(): void {
    clearInterval(this.#heartbeat);
    for (const [name, listener] of this.#listeners) this.#service.off(name, listener as never);
    for (const res of this.#clients) res.end();
    this.#clients.clear();
  }

  #send(event: string, data: unknown): void {
    this.#write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
  }

  #write(chunk: string): void {
    for (const res of this.#clients) if (!res.writableEnded) res.write(chunk);
  }
}
