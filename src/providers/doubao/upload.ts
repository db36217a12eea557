/**
 * Image upload, protocol §3 and §8: prepare_upload (temporary credentials, a Doubao web API call through the
 * transport) → ApplyImageUpload (AWS SigV4, signed by the `aws4` package) → the bytes with their CRC32 to the host
 * ImageX named → CommitImageUpload → the attachment chat accepts (the 2026 request reshapes it into a block).
 */
import { randomUUID } from 'node:crypto';
import zlib from 'node:zlib';
import aws4 from 'aws4';
import { z } from 'zod';
import { UpstreamError } from '../../core/errors.js';
import type { ImageInput } from '../provider.js';
import type { Session } from './session-pool.js';
import type { WebClient } from './web-client.js';

const IMAGEX_VERSION = '2018-08-01';

/** The attachment of protocol §3, as chat completion expects it. */
export interface Attachment {
  key: string;
  name: string;
  type: 'vlm_image';
  file_review_state: 3;
  file_parse_state: 3;
  identifier: string;
  option: { width: number; height: number };
}

const prepareSchema = z.object({
  data: z.object({
    service_id: z.string().min(1),
    upload_auth_token: z.object({
      access_key: z.string().min(1),
      secret_key: z.string().min(1),
      session_token: z.string().min(1),
    }),
  }),
});
const applySchema = z.object({
  Result: z.object({
    UploadAddress: z.object({
      StoreInfos: z.array(z.object({ StoreUri: z.string().min(1), Auth: z.string().min(1) })).min(1),
      SessionKey: z.string().min(1),
      UploadHosts: z.array(z.string()).optional(),
    }),
  }),
});
const commitSchema = z.object({
  Result: z.object({
    PluginResult: z
      .array(z.object({ ImageUri: z.string().min(1), ImageWidth: z.number(), ImageHeight: z.number() }))
      .min(1),
  }),
});

/** CRC-32 (IEEE) as 8 lowercase hex digits; zlib has it from Node 20.15, older 20.x use the table. */
export function crc32Hex(bytes: Uint8Array): string {
  const native = (zlib as { crc32?: (data: Uint8Array) => number }).crc32;
  const value = native ? native(bytes) : tableCrc32(bytes);
  return (value >>> 0).toString(16).padStart(8, '0');
}

let table: Uint32Array | undefined;
function tableCrc32(bytes: Uint8Array): number {
  table ??= Uint32Array.from({ length: 256 }, (_, n) => {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    return c >>> 0;
  });
  let crc = 0xffffffff;
  for (const byte of bytes) crc = table[(crc ^ byte) & 0xff]! ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}

function parse<T>(schema: z.ZodType<T>, body: unknown, what: string): T {
  const parsed = schema.safeParse(body);
  if (!parsed.success) throw new UpstreamError(`${what}: Doubao answered in an unexpected shape`, true);
  return parsed.data;
}

export interface UploadHosts {
  imagexUrl: string;
  uploadUrl: string;
}

/**
 * Where the bytes go: the first host ImageX named (`UploadHosts`), with the scheme of the configured upload URL
 * (so tests and proxies keep theirs); the configured URL when ImageX named none.
 */
function storeOrigin(configured: string, uploadHosts: string[] | undefined): string {
  const host = uploadHosts?.find((h) => /^[a-z0-9.-]+(:\d+)?$/i.test(h));
  return host ? `${new URL(configured).protocol}//${host}` : configured.replace(/\/+$/, '');
}

/** Uploads one image with a logged-in session and returns its attachment. */
export async function uploadImage(
  client: WebClient,
  hosts: UploadHosts,
  session: Session,
  image: ImageInput,
): Promise<Attachment> {
  const ext = image.fileName.includes('.') ? image.fileName.slice(image.fileName.lastIndexOf('.')) : '.jpg';
  const name = image.fileName.includes('.') ? image.fileName : `${image.fileName}${ext}`;

  const prepared = await client.callJson(session, {
    kind: 'upload',
    method: 'POST',
    path: '/alice/resource/prepare_upload',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ resource_type: 2, scene_id: '5', tenant_id: '5' }),
    what: 'image upload (prepare)',
  });
  const { data } = parse(prepareSchema, prepared, 'image upload (prepare)');
  const credentials = {
    accessKeyId: data.upload_auth_token.access_key,
    secretAccessKey: data.upload_auth_token.secret_key,
    sessionToken: data.upload_auth_token.session_token,
  };

  /** One SigV4-signed ImageX call. */
  const imagex = async (action: string, query: Record<string, string>, body?: string) => {
    const what = `image upload (${action})`;
    const base = new URL(hosts.imagexUrl);
    const search = new URLSearchParams({
      Action: action,
      Version: IMAGEX_VERSION,
      ServiceId: data.service_id,
      ...query,
    });
    const signed = aws4.sign(
      {
        host: base.host,
        path: `/?${search}`,
        method: body === undefined ? 'GET' : 'POST',
        service: 'imagex',
        region: 'cn-north-1',
        headers: body === undefined ? {} : { 'content-type': 'application/json' },
        ...(body !== undefined && { body }),
      },
      credentials,
    );
    const { Host: _host, ...headers } = signed.headers as Record<string, string>;
    return client.sendPlainJson(session, `${base.origin}${signed.path}`, {
      method: signed.method as 'GET' | 'POST',
      headers,
      body,
      what,
    });
  };

  const applied = parse(
    applySchema,
    await imagex('ApplyImageUpload', {
      NeedFallback: 'true',
      FileSize: String(image.bytes.length),
      FileExtension: ext,
    }),
    'image upload (ApplyImageUpload)',
  ).Result.UploadAddress;
  const store = applied.StoreInfos[0]!;

  const crc32 = crc32Hex(image.bytes);
  const stored = (await client.sendPlainJson(
    session,
    `${storeOrigin(hosts.uploadUrl, applied.UploadHosts)}/upload/v1/${store.StoreUri}`,
    {
      method: 'POST',
      headers: {
        authorization: store.Auth,
        'content-type': 'application/octet-stream',
        'content-crc32': crc32,
        'content-disposition': 'attachment; filename="undefined"',
      },
      body: image.bytes,
      what: 'image upload (bytes)',
    },
  )) as { code?: unknown; message?: unknown; data?: { crc32?: unknown } };
  // 2026: code 2000 with our CRC32 echoed; 2025: "Success".
  const accepted = (stored.code === 2000 && stored.data?.crc32 === crc32) || stored.message === 'Success';
  if (!accepted) throw new UpstreamError('image upload (bytes): the store refused the image', true);

  const committed = parse(
    commitSchema,
    await imagex('CommitImageUpload', {}, JSON.stringify({ SessionKey: applied.SessionKey })),
    'image upload (CommitImageUpload)',
  ).Result.PluginResult[0]!;

  return {
    key: committed.ImageUri,
    name,
    type: 'vlm_image',
    file_review_state: 3,
    file_parse_state: 3,
    identifier: randomUUID(),
    option: { width: committed.ImageWidth, height: committed.ImageHeight },
  };
}
