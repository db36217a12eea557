/** Reads a whole request body, for the fakes' own parsers. */
import type { IncomingMessage } from 'node:http';

export async function requestBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}
