/**
 * JSON Schemas of the seed's REST API, the one source of request validation, reply serialisation (no stray field
 * leaks) and the OpenAPI document at /openapi.json. Shapes shared by several routes are registered by `$id`.
 */

export const detailSchema = {
  $id: 'Detail',
  type: 'object',
  description: 'An error, as FastAPI reports them.',
  properties: {
    detail: { type: 'string' },
    code: {
      type: 'string',
      description:
        'Why, for programs: the core error (QUOTA_EXCEEDED…) or, more specific, its reason (DAILY_LIMIT, PROMPT_BLOCKED…)',
    },
  },
  required: ['detail'],
} as const;

/**
 * The generation options (#15), on generate and in the task answers (only when the task asked for them, so seed
 * clients see the answers they always saw). Values are checked by the core, which says what the provider supports;
 * null is the same as leaving a field out.
 */
const taskOptionFields = {
  ratio: {
    type: ['string', 'null'],
    description: 'Aspect ratio: 16:9, 9:16, 1:1, 4:3, 3:4 or 21:9 (those the provider supports)',
    examples: ['9:16'],
  },
  duration: { type: ['integer', 'null'], description: 'Length in seconds: 5 or 10', examples: [10] },
  resolution: {
    type: ['string', 'null'],
    description: '480p, 720p or 1080p (the ark provider only)',
    examples: ['720p'],
  },
} as const;

export const seedTaskSchema = {
  $id: 'SeedTask',
  type: 'object',
  properties: {
    conversation_id: { type: 'string' },
    message_id: { type: 'string' },
    status: { type: 'string', enum: ['pending', 'processing', 'completed', 'failed', 'cancelled'] },
    video_urls: {
      type: 'array',
      items: { type: 'string' },
      description: 'Our re-hosted copy first, then upstream links',
    },
    retry_count: { type: 'integer' },
    max_retries: { type: 'integer' },
    created_at: { type: 'string' },
    updated_at: { type: 'string' },
    error: { type: ['string', 'null'] },
    ...taskOptionFields,
  },
  required: [
    'conversation_id',
    'message_id',
    'status',
    'video_urls',
    'retry_count',
    'max_retries',
    'created_at',
    'updated_at',
    'error',
  ],
} as const;

export const attachmentSchema = {
  $id: 'Attachment',
  type: 'object',
  description: 'An uploaded image, to pass back as `image_attachment`.',
  properties: {
    key: { type: 'string' },
    name: { type: 'string' },
    type: { type: 'string' },
    file_review_state: { type: 'integer' },
    file_parse_state: { type: 'integer' },
    identifier: { type: 'string' },
    option: {
      type: 'object',
      properties: { width: { type: 'integer' }, height: { type: 'integer' } },
      additionalProperties: true,
    },
  },
  required: ['key'],
  additionalProperties: true,
} as const;

/**
 * The errors a route answers, as `{ $ref: 'Detail#' }` per status (so Fastify serialises only `detail`); each status
 * is described once, as a shared response of the document (openapi.ts). 401 and 422 can come from any API route.
 */
function errors(...statuses: number[]) {
  return Object.fromEntries([401, 422, ...statuses].map((status) => [status, { $ref: 'Detail#' }])) as Record<
    number,
    { readonly $ref: 'Detail#' }
  >;
}

/** Lists come in pages: 100 tasks unless asked, at most 1000; `total` says how many there are in all. */
export const PAGE = { default: 100, max: 1000 } as const;
const paging = {
  limit: {
    type: 'integer',
    minimum: 1,
    maximum: PAGE.max,
    default: PAGE.default,
    description: `Tasks per page (${PAGE.default} unless given, at most ${PAGE.max})`,
  },
  offset: { type: 'integer', minimum: 0, default: 0, description: 'Tasks to skip: page through with `total`' },
} as const;

/** The seed's ids are digit strings; nothing else is accepted where an id could reach a path or an upstream. */
const seedId = { type: 'string', pattern: '^[0-9]{1,64}$', description: 'digits, as the seed service makes them' };
const seedIds = { conversation_id: seedId, message_id: seedId } as const;

export const uploadSchema = {
  summary: 'Upload an image for image-to-video: the raw bytes, or a multipart form with a `file` field',
  description:
    'The body is the image itself (`Content-Type: application/octet-stream` or `image/*`), or a multipart form ' +
    'with one file field named `file` (`curl -F file=@cat.jpg`). JPEG, PNG, WebP, GIF or BMP, checked by its bytes, ' +
    'up to MAX_IMAGE_BYTES and MAX_IMAGE_PIXELS. Pass the answer back as `image_attachment` to generate.',
  tags: ['file'],
  querystring: {
    type: 'object',
    properties: {
      file_type: { type: 'integer', default: 2, description: '2 = image (the only kind video generation uses)' },
      file_name: {
        type: 'string',
        maxLength: 255,
        description: "The name to keep; default: the form file's name, or `image.<type>`",
      },
    },
  },
  response: { 200: { $ref: 'Attachment#' }, ...errors(400, 413, 415, 507) },
} as const;

export const generateSchema = {
  summary: 'Ask for a video (text-to-video, or image-to-video with an uploaded image or an image URL)',
  tags: ['video-gen'],
  headers: {
    type: 'object',
    properties: {
      'idempotency-key': {
        type: 'string',
        minLength: 1,
        maxLength: 200,
        description:
          'Send the same key when re-sending a request whose answer was lost: it is answered with the same task',
      },
    },
  },
  body: {
    type: 'object',
    properties: {
      prompt: { type: 'string' },
      image_attachment: { anyOf: [{ $ref: 'Attachment#' }, { type: 'null' }] },
      image_url: { type: ['string', 'null'], maxLength: 4096 },
      guest: { type: 'boolean', default: false },
      callback_url: {
        type: ['string', 'null'],
        maxLength: 2048,
        description:
          "http(s) URL POSTed the task (as the status route's `task`) when it ends, signed with `X-Signature-256: " +
          'sha256=<hex HMAC-SHA256 of the body with CALLBACK_SECRET>`; retried with backoff until a 2xx answer. ' +
          'Refused (400) while the server has no CALLBACK_SECRET, and for private addresses.',
      },
      conversation_id: { type: ['string', 'null'], maxLength: 64 },
      section_id: { type: ['string', 'null'], maxLength: 64 },
      ...taskOptionFields,
    },
    required: ['prompt'],
    // What /docs puts in "Try it out": it works as sent (a text-to-video task).
    examples: [{ prompt: 'A paper boat drifting down a rainy street at dusk, cinematic', guest: false }],
  },
  response: {
    200: {
      type: 'object',
      properties: {
        success: { type: 'boolean' },
        message: { type: 'string' },
        conversation_id: { type: 'string' },
        message_id: { type: 'string' },
        section_id: { type: ['string', 'null'] },
        task_status: { type: 'string' },
        estimated_time: { type: 'string' },
      },
      required: ['success', 'message', 'conversation_id', 'message_id', 'section_id', 'task_status', 'estimated_time'],
    },
    ...errors(400, 413, 415, 429, 502, 503, 507),
  },
} as const;

export const statusSchema = {
  summary: 'The state of one video task',
  tags: ['video-gen'],
  querystring: { type: 'object', properties: seedIds, required: ['conversation_id', 'message_id'] },
  response: {
    200: {
      type: 'object',
      properties: { success: { type: 'boolean' }, task: { $ref: 'SeedTask#' } },
      required: ['success', 'task'],
    },
    ...errors(404),
  },
} as const;

/** Cancel and retry take the task's seed ids as JSON and answer with the task as it now stands. */
function controlSchema(summary: string, description: string) {
  return {
    summary,
    description,
    tags: ['video-gen'],
    body: {
      type: 'object',
      properties: seedIds,
      required: ['conversation_id', 'message_id'],
      examples: [{ conversation_id: '1234567890123456', message_id: '6543210987654321' }],
    },
    response: {
      200: {
        type: 'object',
        properties: { success: { type: 'boolean' }, task: { $ref: 'SeedTask#' } },
        required: ['success', 'task'],
      },
      ...errors(404, 409, 502, 503),
    },
  } as const;
}

export const cancelSchema = controlSchema(
  'Cancel an unfinished task',
  'Stops the task (upstream too when the provider can). 409 when it already ended; 404 for unknown ids. ' +
    'The API token acts for the operator: any task can be cancelled, also one asked for through a bot.',
);

export const retrySchema = controlSchema(
  'Run a failed or cancelled task again',
  'Fresh attempts for a task that failed or was cancelled; 409 while it is still running or after it completed; ' +
    '404 for unknown ids. Its `callback_url`, if it had one, is called again when the new run ends.',
);

export const listSchema = {
  summary: 'Video tasks, newest first (optionally of one conversation), a page at a time',
  tags: ['video-gen'],
  querystring: {
    type: 'object',
    properties: {
      conversation_id: seedIds.conversation_id,
      status: { type: 'string', enum: ['pending', 'processing', 'completed', 'failed', 'cancelled'] },
      ...paging,
    },
  },
  response: {
    200: {
      type: 'object',
      properties: {
        success: { type: 'boolean' },
        total: { type: 'integer' },
        tasks: { type: 'array', items: { $ref: 'SeedTask#' } },
      },
      required: ['success', 'total', 'tasks'],
    },
    ...errors(400),
  },
} as const;

export const getUrlSchema = {
  summary: 'Look for the finished video once, now',
  tags: ['video'],
  querystring: {
    type: 'object',
    properties: { ...seedIds, timeout: { type: 'integer', minimum: 1000, maximum: 120000, default: 15000 } },
    required: ['conversation_id', 'message_id'],
  },
  response: {
    200: {
      type: 'object',
      properties: {
        success: { type: 'boolean' },
        conversation_id: { type: 'string' },
        video_count: { type: 'integer' },
        video_urls: { type: 'array', items: { type: 'string' } },
        error: { type: ['string', 'null'] },
      },
      required: ['success', 'conversation_id', 'video_count', 'video_urls', 'error'],
    },
    ...errors(404),
  },
} as const;

export const taskStatusSchema = {
  summary: 'A task, or the tasks of a conversation',
  tags: ['video'],
  querystring: { type: 'object', properties: { ...seedIds, ...paging }, required: ['conversation_id'] },
  response: {
    200: {
      anyOf: [
        { $ref: 'SeedTask#' },
        {
          type: 'object',
          properties: {
            conversation_id: { type: 'string' },
            total: { type: 'integer' },
            tasks: { type: 'array', items: { $ref: 'SeedTask#' } },
          },
          required: ['conversation_id', 'total', 'tasks'],
        },
      ],
    },
    ...errors(404),
  },
} as const;

export const allTasksSchema = {
  summary: 'Every task, newest first, a page at a time',
  tags: ['video'],
  querystring: { type: 'object', properties: paging },
  response: {
    200: {
      type: 'object',
      properties: { total: { type: 'integer' }, tasks: { type: 'array', items: { $ref: 'SeedTask#' } } },
      required: ['total', 'tasks'],
    },
    ...errors(400),
  },
} as const;

export const arkCallbackSchema = {
  summary: 'Ark reports that one of our tasks changed (set as callback_url when ARK_CALLBACK=1)',
  tags: ['ark'],
  body: {
    type: 'object',
    properties: { id: { type: 'string', minLength: 1, maxLength: 128 } },
    required: ['id'],
    additionalProperties: true,
  },
  response: {
    200: { type: 'object', properties: { success: { type: 'boolean' } }, required: ['success'] },
    404: { $ref: 'Detail#' },
    422: { $ref: 'Detail#' },
  },
} as const;

export const importSchema = {
  summary: 'Import the seed service\'s video_links.json (Doubao tasks keyed "<conversation_id>_<message_id>")',
  tags: ['video-gen'],
  body: {
    type: 'object',
    additionalProperties: {
      type: 'object',
      properties: {
        conversation_id: seedId,
        message_id: seedId,
        status: { type: 'string', enum: ['pending', 'processing', 'completed', 'failed'] },
        video_urls: {
          type: 'array',
          items: { type: 'string', maxLength: 4096, pattern: '^https?://[^\\s]+$' },
          maxItems: 20,
          default: [],
          description: 'http(s) links only',
        },
        retry_count: { type: 'integer', minimum: 0, default: 0 },
        max_retries: { type: 'integer', minimum: 1, default: 5 },
        error: { type: ['string', 'null'], default: null },
      },
      required: ['conversation_id', 'message_id', 'status'],
    },
  },
  response: {
    200: {
      type: 'object',
      properties: { success: { type: 'boolean' }, imported: { type: 'integer' }, skipped: { type: 'integer' } },
      required: ['success', 'imported', 'skipped'],
    },
    ...errors(400, 413, 507),
  },
} as const;
