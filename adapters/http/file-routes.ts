/**
 * `POST /api/file/upload`: the seed's upload. The image comes as the raw request body (the seed's way) or as a
 * multipart form with one file field (`curl -F file=@a.jpg`, a browser form, /docs "Try it out"); either way it is
 * held to the same size limit, checked by its magic bytes and pixel count and kept, and the reply is the attachment
 * object to pass back as `image_attachment`. A form is read part by part with tight limits (one file, a few small
 * fields), so a hostile one is refused with a sentence saying what to send instead of being buffered.
 */
import { randomUUID } from 'node:crypto';
import { basename } from 'node:path';
import fastifyMultipart, { type Multipart } from '@fastify/multipart';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { formatBytes, InvalidInput, isCoreError } from '../../src/core/index.js';
import type { HttpDeps } from './deps.js';
import { uploadSchema } from './schemas.js';

interface UploadQuery {
  file_type: number;
  file_name?: string;
}

/** What to send, said in every refusal of a body that is not an image. */
export const UPLOAD_HOW =
  'send the image as the raw body (Content-Type: application/octet-stream or image/*) or as a multipart form with one file field named "file" (curl -F file=@image.jpg)';
/** The longest a form's text field may be: the upload needs none, so a long one is a mistake or an attack. */
const FIELD_BYTES = 1024;

export async function fileRoutes(app: FastifyInstance, { service }: HttpDeps) {
  const maxBytes = service.limits.maxImageBytes;
  app.addContentTypeParser('*', { parseAs: 'buffer' }, (_req, body, done) => done(null, body));
  await app.register(fastifyMultipart, {
    limits: { fileSize: maxBytes, files: 1, fields: 8, parts: 10, fieldSize: FIELD_BYTES, headerPairs: 20 },
  });

  app.post<{ Querystring: UploadQuery; Body: Buffer }>(
    '/upload',
    {
      schema: uploadSchema,
      bodyLimit: maxBytes,
      // The body is bytes, not JSON: Fastify must not validate it, but /docs shows it with a file picker.
      config: { swaggerTransform: ({ schema, url }) => ({ schema: { ...schema, body: uploadBodyDoc }, url }) },
    },
    async (req) => {
      if (req.query.file_type !== 2) {
        throw new InvalidInput('only images (file_type=2) can be used for video generation');
      }
      const form = req.isMultipart() ? await readForm(req, maxBytes) : undefined;
      const bytes = form?.bytes ?? req.body;
      if (!Buffer.isBuffer(bytes))
        throw new InvalidInput(`the body is not an image: ${UPLOAD_HOW}`, 'UNSUPPORTED_MEDIA');
      const stored = await service.storeImage(bytes);
      const name = safeFileName(req.query.file_name ?? form?.fileName ?? '');
      return {
        key: stored.key,
        name: name.includes('.') ? name : `${name}.${stored.ext}`,
        type: 'vlm_image',
        file_review_state: 3,
        file_parse_state: 3,
        identifier: randomUUID(),
        option: { width: stored.width, height: stored.height },
      };
    },
  );
}

/** A plain file name: no folders, no odd characters, no leading dots ("." and ".." included). */
function safeFileName(raw: string): string {
  return (
    basename(raw.replaceAll('\\', '/'))
      .replace(/[^\p{L}\p{N}._ -]/gu, '_')
      .replace(/^\.+/, '') || 'image'
  );
}

/**
 * Reads a multipart upload: the one file part (whatever its field name) into memory, up to `maxBytes`; text fields
 * are read and dropped. Busboy's complaints about a broken form become a 400 saying what to send.
 */
async function readForm(req: FastifyRequest, maxBytes: number): Promise<{ bytes: Buffer; fileName: string }> {
  let file: { bytes: Buffer; fileName: string } | undefined;
  try {
    for await (const part of req.parts() as AsyncIterable<Multipart>) {
      if (part.type === 'file') {
        file = { bytes: await part.toBuffer(), fileName: part.filename };
      } else if (part.valueTruncated) {
        throw new InvalidInput(
          `the form field "${part.fieldname.slice(0, 40)}" is longer than ${formatBytes(FIELD_BYTES)}; ${UPLOAD_HOW}`,
          'TOO_LARGE',
        );
      }
    }
  } catch (error) {
    throw formError(error, maxBytes);
  }
  if (!file) throw new InvalidInput(`the form has no file in it; ${UPLOAD_HOW}`);
  return file;
}

const ONE_FILE = 'send one image, in a file field named "file", and nothing else';
const FORM_LIMITS: Record<string, string> = {
  FST_FILES_LIMIT: `the form has more than one file: ${ONE_FILE}`,
  FST_PARTS_LIMIT: `the form has too many parts: ${ONE_FILE}`,
  FST_FIELDS_LIMIT: `the form has too many fields: ${ONE_FILE}`,
};

function formError(error: unknown, maxBytes: number): Error {
  if (isCoreError(error)) return error;
  const code = (error as { code?: string }).code ?? '';
  if (code === 'FST_REQ_FILE_TOO_LARGE') {
    return new InvalidInput(`the image is larger than the ${formatBytes(maxBytes)} limit`, 'TOO_LARGE');
  }
  const limit = FORM_LIMITS[code];
  if (limit) return new InvalidInput(limit, 'TOO_LARGE');
  const why = error instanceof Error ? error.message.slice(0, 120) : 'unreadable';
  return new InvalidInput(`the multipart form could not be read (${why}); ${UPLOAD_HOW}`);
}

/** The upload's body in the OpenAPI document: raw bytes or a form, each with a file picker in /docs. */
const uploadBodyDoc = {
  content: {
    'application/octet-stream': {
      schema: { type: 'string', format: 'binary', description: 'The image file itself (JPEG, PNG, WebP, GIF, BMP)' },
    },
    'multipart/form-data': {
      schema: {
        type: 'object',
        properties: { file: { type: 'string', format: 'binary', description: 'The image file' } },
        required: ['file'],
      },
    },
  },
};
