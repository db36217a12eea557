/**
 * The demo's client of the seed REST API (undici): upload, generate, status and list, with the bearer token when
 * one is configured. Errors come back as the API's `detail` sentence.
 */
import { readFile } from 'node:fs/promises';
import { basename } from 'node:path';
import { request } from 'undici';

export interface SeedTask {
  conversation_id: string;
  message_id: string;
  status: string;
  video_urls: string[];
  retry_count: number;
  max_retries: number;
  error: string | null;
}

export class ApiError extends Error {
  override readonly name = 'ApiError';
}

export function createApiClient(baseUrl: string, token?: string) {
  async function call<T>(method: 'GET' | 'POST', path: string, body?: Buffer | object): Promise<T> {
    const headers: Record<string, string> = token ? { authorization: `Bearer ${token}` } : {};
    if (body) headers['content-type'] = Buffer.isBuffer(body) ? 'application/octet-stream' : 'application/json';
    const res = await request(`${baseUrl}${path}`, {
      method,
      headers,
      body: body === undefined ? undefined : Buffer.isBuffer(body) ? body : JSON.stringify(body),
    }).catch((error: Error) => {
      throw new ApiError(`cannot reach ${baseUrl}: ${error.message} — is \`npm start\` running?`);
    });
    const json = (await res.body.json().catch(() => ({}))) as T & { detail?: string };
    if (res.statusCode >= 400) throw new ApiError(json.detail ?? `HTTP ${res.statusCode}`);
    return json;
  }

  return {
    async upload(path: string): Promise<Record<string, unknown>> {
      const bytes = await readFile(path).catch(() => {
        throw new ApiError(`cannot read ${path}`);
      });
      return call('POST', `/api/file/upload?file_type=2&file_name=${encodeURIComponent(basename(path))}`, bytes);
    },
    generate(prompt: string, imageAttachment?: Record<string, unknown>) {
      return call<{ conversation_id: string; message_id: string; estimated_time: string }>(
        'POST',
        '/api/video-gen/generate',
        { prompt, ...(imageAttachment && { image_attachment: imageAttachment }) },
      );
    },
    async status(conversationId: string, messageId: string): Promise<SeedTask> {
      const query = `conversation_id=${encodeURIComponent(conversationId)}&message_id=${encodeURIComponent(messageId)}`;
      return (await call<{ task: SeedTask }>('GET', `/api/video-gen/status?${query}`)).task;
    },
    async importSeedFile(path: string) {
      const text = await readFile(path, 'utf8').catch(() => {
        throw new ApiError(`cannot read ${path}`);
      });
      let body: object;
      try {
        body = JSON.parse(text);
      } catch {
        throw new ApiError(`${path} is not JSON`);
      }
      return call<{ imported: number; skipped: number }>('POST', '/api/video-gen/import', body);
    },
    list() {
      return call<{ total: number; tasks: SeedTask[] }>('GET', '/api/video-gen/list');
    },
  };
}

export type ApiClient = ReturnType<typeof createApiClient>;
