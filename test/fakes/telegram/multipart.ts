/**
 * Reads a Bot API request body the way Telegram does: JSON, urlencoded, or multipart/form-data. Multipart is parsed
 * with busboy because grammY's `content-disposition:form-data;name="x";filename=a.mp4` is rejected by Node 20's
 * `Response#formData()`. `attach://<name>` values are resolved to the uploaded file they point at.
 */
import type { IncomingMessage } from 'node:http';
import busboy from 'busboy';
import { requestBody } from '../request-body.js';

/** A file uploaded in a multipart request. */
export interface UploadedFile {
  field: string;
  filename: string;
  mimeType: string;
  bytes: Buffer;
}

export interface ParsedBody {
  payload: Record<string, unknown>;
  /** Uploaded files by the payload field that refers to them (directly or through `attach://`). */
  files: Record<string, UploadedFile>;
}

export async function readBody(req: IncomingMessage): Promise<ParsedBody> {
  const type = req.headers['content-type'] ?? '';
  if (type.startsWith('multipart/form-data')) return readMultipart(req);
  const text = (await requestBody(req)).toString('utf8');
  if (!text) return { payload: {}, files: {} };
  if (type.startsWith('application/x-www-form-urlencoded')) {
    return { payload: Object.fromEntries(new URLSearchParams(text)), files: {} };
  }
  return { payload: JSON.parse(text) as Record<string, unknown>, files: {} };
}

function readMultipart(req: IncomingMessage): Promise<ParsedBody> {
  return new Promise((resolve, reject) => {
    const fields: Record<string, unknown> = {};
    const uploads = new Map<string, UploadedFile>();
    const parser = busboy({ headers: req.headers });
    parser.on('field', (name, value) => {
      fields[name] = parseValue(value);
    });
    parser.on('file', (field, stream, info) => {
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('end', () => {
        uploads.set(field, {
          field,
          filename: info.filename ?? '',
          mimeType: info.mimeType,
          bytes: Buffer.concat(chunks),
        });
      });
    });
    parser.on('error', reject);
    parser.on('close', () => {
      const files: Record<string, UploadedFile> = {};
      for (const [name, value] of Object.entries(fields)) {
        const ref = typeof value === 'string' && value.startsWith('attach://') ? value.slice('attach://'.length) : name;
        const file = uploads.get(ref);
        if (file) files[name] = file;
      }
      for (const [name, file] of uploads) if (!(name in files) && !(name in fields)) files[name] = file;
      resolve({ payload: fields, files });
    });
    req.pipe(parser);
  });
}

/** grammY sends objects and numbers as JSON text inside form fields. */
function parseValue(value: string): unknown {
  try {
    return JSON.parse(value);
  } catch {
    return value;
  }
}
