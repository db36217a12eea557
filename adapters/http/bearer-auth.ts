/**
 * Requires `Authorization: Bearer <API_TOKEN>` on every route of the context it is registered in (when a token is
 * configured). Compared in constant time; the token never reaches the logs.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance } from 'fastify';

const digest = (value: string) => createHash('sha256').update(value).digest();

export function requireBearer(app: FastifyInstance, token: string | undefined): void {
  if (!token) return;
  const expected = digest(token);
  app.addHook('onRequest', async (req, reply) => {
    const header = req.headers.authorization ?? '';
    // Auth schemes are case-insensitive (RFC 9110 §11.1): `bearer` and `BEARER` are fine.
    const given = /^bearer\s+(.+)$/i.exec(header)?.[1]?.trim() ?? '';
    if (!given || !timingSafeEqual(digest(given), expected)) {
      return reply
        .status(401)
        .header('www-authenticate', 'Bearer')
        .send({ detail: given ? 'invalid API token' : 'missing API token: send Authorization: Bearer <API_TOKEN>' });
    }
  });
}
