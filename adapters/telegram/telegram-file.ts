/**
 * Downloads a file a user sent, only from the Bot API's own file URL (`<apiRoot>/file/bot<token>/<file_path>`),
 * within Telegram's 20 MB `getFile` limit and MAX_IMAGE_BYTES. Errors never carry that URL, which holds the token.
 */

import { type Api, GrammyError } from 'grammy';
import type { Dispatcher } from 'undici';
import { downloadLimited, formatBytes, InvalidInput, UpstreamError } from '../../src/core/index.js';
import { TELEGRAM_LIMITS } from './deps.js';

export interface FileSource {
  apiRoot: string;
  token: string;
  maxImageBytes: number;
  timeoutMs: number;
  /** The configured proxy (src/proxy.ts), which file downloads go through like the bot's other calls. */
  dispatcher?: Dispatcher;
}

/** A file reference from an update; `fileSize` is absent when Telegram does not say. */
export interface FileRef {
  fileId: string;
  fileSize?: number;
}

/**
 * Checks the declared size, asks `getFile` for the path, and fetches the bytes.
 * @throws FileTooBig stating the limit that applies; InvalidInput for a refused URL; UpstreamError when Telegram cannot be reached.
 */
export async function downloadTelegramFile(api: Api, source: FileSource, file: FileRef): Promise<Buffer> {
  const size = file.fileSize ?? 0;
  if (size > TELEGRAM_LIMITS.downloadBytes) throw tooBigForTelegram();
  if (size > source.maxImageBytes) throw tooBigImage(source.maxImageBytes);
  let filePath: string | undefined;
  try {
    filePath = (await api.getFile(file.fileId)).file_path;
  } catch (error) {
    if (error instanceof GrammyError && /too big/i.test(error.description)) throw tooBigForTelegram();
    throw error;
  }
  if (!filePath) throw new UpstreamError('Telegram did not say where the file is', true);
  const root = new URL(source.apiRoot);
  try {
    return await downloadLimited(`${root.origin}/file/bot${source.token}/${filePath}`, {
      maxBytes: Math.min(source.maxImageBytes, TELEGRAM_LIMITS.downloadBytes),
      timeoutMs: source.timeoutMs,
      // The host is pinned to the Bot API server; a self-hosted one commonly runs on loopback.
      allowPrivate: true,
      allowedHosts: new Set([root.hostname.replace(/^\[|\]$/g, '').toLowerCase()]),
      what: 'the image',
      ...(source.dispatcher && { dispatcher: source.dispatcher }),
    });
  } catch (error) {
    if (error instanceof InvalidInput && error.code === 'TOO_LARGE') throw tooBigImage(source.maxImageBytes);
    if (error instanceof InvalidInput) throw error;
    throw new UpstreamError('could not download the image from Telegram', true);
  }
}

/** A file refused for its size before the core saw it; `byTelegram` when Telegram's own limit applies. */
export class FileTooBig extends Error {
  override readonly name = 'FileTooBig';
  constructor(
    readonly limit: string,
    readonly byTelegram: boolean,
  ) {
    super(`the file is larger than the ${limit} limit`);
  }
}

function tooBigForTelegram(): FileTooBig {
  return new FileTooBig(formatBytes(TELEGRAM_LIMITS.downloadBytes), true);
}

function tooBigImage(maxBytes: number): FileTooBig {
  return new FileTooBig(formatBytes(maxBytes), false);
}
