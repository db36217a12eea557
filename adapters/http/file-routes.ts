/**
 * `POST /api/file/upload`: the seed's upload. The body is the raw image; it is checked by its magic bytes and kept,
 * and the reply is the attachment object to pass back as `image_attachment`.
 */
import { randomUUID } from 'node:crypto';
import { basename } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { InvalidInput } from '../../src/core/index.js';
import type { HttpDeps } from './deps.js';
import { uploadSchema } from './schemas.js';

interface UploadQuery {
  file_type: number;
  file_name: string;
}

export async function fileRoutes(app: FastifyInstance, { service }: HttpDeps) {
  app.addContentTypeParser('*', { parseAs: 'buffer' }, (_req, body, done) => done(null, body));

  const bodyLimit = service.limits.maxImageBytes;
  app.post<{ Querystring: UploadQuery; Body: Buffer }>('/upload', { schema: uploadSchema, bodyLimit }, async (req) => {
    if (req.query.file_type !== 2) throw new InvalidInput('only images (file_type=2) can be used for video generation');
    if (!Buffer.isBuffer(req.body))
      throw new InvalidInput('send the image as the raw request body', 'UNSUPPORTED_MEDIA');
    const stored = await service.storeImage(req.body);
    // A plain file name: no folders, no odd characters, no leading dots ("." and ".." included).
    const name =
      basename(req.query.file_name.replaceAll('\\', '/'))
        .replace(/[^\p{L}\p{N}._ -]/gu, '_')
        .replace(/^\.+/, '') || 'image';
    return {
      key: stored.key,
      name: name.includes('.') ? name : `${name}.${stored.ext}`,
      type: 'vlm_image',
      file_review_state: 3,
      file_parse_state: 3,
      identifier: randomUUID(),
      option: { width: stored.width, height: stored.height },
    };
  });
}
