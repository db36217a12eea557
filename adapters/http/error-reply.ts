/**
 * Maps every error a route can meet to the seed's FastAPI-style reply: a status code and `{"detail": "…"}`.
 * Core errors map by `code`; Fastify's own (malformed JSON, body too large, failed validation) by theirs.
 * Anything else is a 500 with a generic sentence, logged with its stack.
 */
import type { Socket } from 'node:net';
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { formatBytes, isCoreError, reasonOf } from '../../src/core/index.js';

/** What JSON routes say to a body of another type. */
export const SEND_JSON =
  'unsupported content type: send a JSON body with Content-Type: application/json (uploads take the raw image or a multipart form)';

const CORE_STATUS: Record<string, number> = {
  INVALID_INPUT: 400,
  TOO_LARGE: 413,
  UNSUPPORTED_MEDIA: 415,
  REQUEST_KEY_REUSED: 422,
  NOT_FOUND: 404,
  QUOTA_EXCEEDED: 429,
  CONFLICT: 409,
  STORAGE_FULL: 507,
};

export function toHttpReply(error: unknown, bodyLimit: number): { status: number; detail: string; code?: string } {
  if (isCoreError(error)) {
    // A machine-readable code beside the English detail: the specific reason when the core gave one.
    const code = reasonOf(error)?.code ?? error.code;
    if (error.code === 'UPSTREAM_FAILED') return { status: error.retryable ? 503 : 502, detail: error.message, code };
    return { status: CORE_STATUS[error.code] ?? 400, detail: error.message, code };
  }
  const fastifyError = error as FastifyError;
  if (fastifyError.validation) return { status: 422, detail: fastifyError.message };
  switch (fastifyError.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return { status: 413, detail: `the request body is larger than the ${formatBytes(bodyLimit)} limit` };
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return { status: 415, detail: SEND_JSON };
    case 'FST_ERR_BAD_URL':
      return { status: 400, detail: 'the URL is not valid (a bad percent-encoding?)' };
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
      return { status: 400, detail: 'the body is not valid JSON' };
  }
  if (fastifyError instanceof SyntaxError) return { status: 400, detail: 'the body is not valid JSON' };
  const status = fastifyError.statusCode;
  if (status && status >= 400 && status < 500) return { status, detail: fastifyError.message };
  return { status: 500, detail: 'internal error; the details are in the service log' };
}

export function errorHandler() {
  return (error: unknown, request: FastifyRequest, reply: FastifyReply) => {
    // A text body fails the JSON schema ("body must be object"); the sentence that helps is about the content type.
    const validation = error as FastifyError;
    const notJson = !/json/i.test(String(request.headers['content-type'] ?? ''));
    if (validation.validation && validation.validationContext === 'body' && notJson) {
      return reply.status(415).send({ detail: SEND_JSON });
    }
    const { status, detail, code } = toHttpReply(error, request.routeOptions.bodyLimit ?? 0);
    if (status >= 500 && ![502, 503, 507].includes(status)) request.log.error({ err: error }, 'request failed');
    return reply.status(status).send({ detail, ...(code && { code }) });
  };
}

/**
 * Answers requests Node's HTTP parser rejects before Fastify sees them (headers or URL too large, malformed
 * request line, header timeout) in the same `{detail}` shape, instead of Fastify's default `{error, message}`.
 */
export function clientErrorReply(error: Error & { code?: string }, socket: Socket): void {
  if (error.code === 'ECONNRESET' || socket.destroyed || !socket.writable) return;
  const [status, label, detail] =
    error.code === 'HPE_HEADER_OVERFLOW'
      ? [431, 'Request Header Fields Too Large', 'the request URL or headers are too large']
      : error.code === 'ERR_HTTP_REQUEST_TIMEOUT'
        ? [408, 'Request Timeout', 'the request took too long to arrive']
        : [400, 'Bad Request', 'the request is not valid HTTP'];
  const body = JSON.stringify({ detail });
  socket.end(
    `HTTP/1.1 ${status} ${label}\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
  );
}
