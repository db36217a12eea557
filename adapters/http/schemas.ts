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

const errors = {
  400: { $ref: 'Detail#' },
  401: { $ref: 'Detail#' },
  404: { $ref: 'Detail#' },
  409: { $ref: 'Detail#' },
  413: { $ref: 'Detail#' },
  415: { $ref: 'Detail#' },
  422: { $ref: 'Detail#' },
  429: { $ref: 'Detail#' },
  502: { $ref: 'Detail#' },
  503: { $ref: 'Detail#' },
} as const;

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
  summary: 'Upload an image (raw bytes) for image-to-video',
  tags: ['file'],
  querystring: {
    type: 'object',
    properties: {
      file_type: { type: 'integer', default: 2, description: '2 = image (the only kind video generation uses)' },
      file_name: { type: 'string', default: 'image.jpg', maxLength: 255 },
    },
  },
  response: { 200: { $ref: 'Attachment#' }, ...errors },
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
      conversation_id: { type: ['string', 'null'], maxLength: 64 },
      section_id: { type: ['string', 'null'], maxLength: 64 },
    },
    required: ['prompt'],
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
    ...errors,
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
    ...errors,
  },
} as const;

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
    ...errors,
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
    ...errors,
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
    ...errors,
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
    ...errors,
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
    ...errors,
  },
} as const;
