/**
 * Reads a whole request body, for the fakes' own parsers. The body is read once and remembered per request, so a
 * check in front of a route (the fake Doubao's signature gate) and the route itself can both read it.
 */
import type { IncomingMessage } from 'node:http';

const bodies = new WeakMap<IncomingMessage, Promise<Buffer>>();

export function requestBody(req: IncomingMessage): Promise<Buffer> {
  let body = bodies.get(req);
  if (!body) {
    body = (async () => {
      const chunks: Buffer[] = [];
      for await (const chunk of req) chunks.push(chunk as Buffer);
      return Buffer.concat(chunks);
    })();
    bodies.set(req, body);
  }
  return body;
}
