/**
 * The OpenAPI document's settings (served at /openapi.json, browsable at /docs). Shared schemas keep their `$id` as
 * their name (`Detail`, `SeedTask`, `Attachment`), and the error answers are declared once, as shared responses
 * (`components.responses`) that every route refers to: routes state which errors they give with `{ $ref: 'Detail#' }`
 * (which also makes Fastify serialise them), and the document replaces each with a reference to the one description.
 */
import type { FastifyDynamicSwaggerOptions } from '@fastify/swagger';

/** Each error status, described once: why it happens, in the words a client needs. */
export const ERROR_RESPONSES: Record<number, { name: string; description: string }> = {
  400: { name: 'BadRequest', description: 'The request cannot be used as sent; `detail` says what to send instead.' },
  401: { name: 'Unauthorized', description: 'Missing or wrong `Authorization: Bearer <API_TOKEN>`.' },
  404: { name: 'NotFound', description: 'No such task (`未找到该视频任务`) or route.' },
  409: {
    name: 'Conflict',
    description: 'The task is not in a state for this: cancel an ended task, retry a running one.',
  },
  413: {
    name: 'TooLarge',
    description: 'The image (or the request) is over its size limit; `detail` names the limit.',
  },
  415: {
    name: 'UnsupportedMedia',
    description: 'Not a JPEG, PNG, WebP, GIF or BMP image by its bytes, or not an image.',
  },
  422: { name: 'InvalidRequest', description: 'The request does not match the schema (missing or mistyped fields).' },
  429: { name: 'QuotaExceeded', description: 'A usage limit refused the request.' },
  502: { name: 'UpstreamRefused', description: 'The video provider refused the request for good.' },
  503: { name: 'UpstreamUnavailable', description: 'The video provider cannot be reached now; try again later.' },
  507: { name: 'StorageFull', description: "The server's disk is full: nothing was kept; try again later." },
};

const DETAIL_REF = '#/components/schemas/Detail';

type Json = Record<string, unknown>;

/** Replaces every route's error answer (a `Detail`) with a reference to its shared response. */
function shareErrorResponses(openapiObject: Json): Json {
  const components = (openapiObject.components ?? {}) as Json;
  components.responses = Object.fromEntries(
    Object.values(ERROR_RESPONSES).map(({ name, description }) => [
      name,
      { description, content: { 'application/json': { schema: { $ref: DETAIL_REF } } } },
    ]),
  );
  for (const path of Object.values((openapiObject.paths ?? {}) as Record<string, Record<string, Json>>)) {
    for (const operation of Object.values(path)) {
      const responses = (operation.responses ?? {}) as Record<string, Json>;
      for (const [status, response] of Object.entries(responses)) {
        const shared = ERROR_RESPONSES[Number(status)];
        const schema = (response.content as Record<string, { schema?: { $ref?: string } }> | undefined)?.[
          'application/json'
        ]?.schema;
        if (shared && schema?.$ref === DETAIL_REF)
          responses[status] = { $ref: `#/components/responses/${shared.name}` };
      }
    }
  }
  return { ...openapiObject, components };
}

export function swaggerOptions(providerName: string, apiToken: string | undefined): FastifyDynamicSwaggerOptions {
  return {
    openapi: {
      info: {
        title: 'doubao-video-bot',
        version: '0.1.0',
        description: [
          `Text-to-video and image-to-video tasks (provider: ${providerName}). Send \`Authorization: Bearer <API_TOKEN>\` when the service has a token.`,
          "Callbacks: a generate request with `callback_url` gets the task (the status route's `task`) POSTed there when it ends, with `X-Signature-256: sha256=<hex HMAC-SHA256 of the raw body with CALLBACK_SECRET>` and `X-Callback-Id` (the same on every try of one outcome); a 2xx answer ends it, 408/429/5xx and timeouts are tried again with backoff, any other answer gives up.",
          'Browsers: pages of the origins in CORS_ORIGINS may call the API (preflights need no token).',
        ].join('\n\n'),
      },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
      security: apiToken ? [{ bearer: [] }] : [],
    },
    // Shared schemas are named by their `$id` in the document, not `def-0`, `def-1`…
    refResolver: { buildLocalReference: (json, _baseUri, _fragment, i) => String(json.$id ?? `def-${i}`) },
    transformObject: (documentObject) =>
      'openapiObject' in documentObject
        ? (shareErrorResponses(documentObject.openapiObject as Json) as typeof documentObject.openapiObject)
        : documentObject.swaggerObject,
  };
}
