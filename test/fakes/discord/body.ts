/** Reads a fake-Discord request body: JSON, or multipart `payload_json` + `files[n]` parsed with busboy. */
import type { IncomingMessage } from 'node:http';
import busboy from 'busboy';
import { requestBody } from '../request-body.js';

export interface UploadedFile {
  field: string;
  filename: string;
  contentType: string;
  bytes: Buffer;
}

export interface ParsedBody {
  json: Record<string, unknown> | null;
  files: UploadedFile[];
}

export async function readBody(req: IncomingMessage): Promise<ParsedBody> {
  const type = req.headers['content-type'] ?? '';
  if (type.startsWith('multipart/form-data')) return readMultipart(req);
  const text = (await requestBody(req)).toString('utf8');
  return { json: text ? (JSON.parse(text) as Record<string, unknown>) : null, files: [] };
}

function readMultipart(req: IncomingMessage): Promise<ParsedBody> {
  return new Promise((resolve, reject) => {
    const result: ParsedBody = { json: null, files: [] };
    const parser = busboy({ headers: req.headers, limits: { fileSize: 100 * 1024 * 1024 } });
    parser.on('field', (name, value) => {
      if (name === 'payload_json') result.json = JSON.parse(value) as Record<string, unknown>;
    });
    parser.on('file', (field, stream, info) => {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () =>
        result.files.push({
          field,
          filename: info.filename ?? '',
          contentType: info.mimeType,
          bytes: Buffer.concat(chunks),
        }),
      );
    });
    parser.on('close', () => resolve(result));
    parser.on('error', reject);
    req.pipe(parser);
  });
}
