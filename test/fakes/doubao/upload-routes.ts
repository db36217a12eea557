/**
 * The fake's image store (protocol §3, §8): ImageX's ApplyImageUpload and CommitImageUpload, which must carry
 * valid SigV4 signatures made with credentials prepare_upload handed out, and the upload host, which checks the
 * bytes' auth, size and CRC32. ApplyImageUpload names the upload host in `UploadHosts`.
 */
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import zlib from 'node:zlib';
import { imageSize } from 'image-size';
import { requestBody } from '../request-body.js';
import type { DoubaoFakeKnobs } from './index.js';
import { type IssuedCredentials, sigV4Problem } from './sigv4.js';

function json(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
}

export function createImageStore(knobs: DoubaoFakeKnobs) {
  const credentials = new Map<string, IssuedCredentials & { serviceId: string }>();
  const stores = new Map<string, { auth: string; sessionKey: string; size: number; bytes?: Buffer }>();
  const images = new Map<string, { width: number; height: number; md5: string; size: number }>();

  /** prepare_upload's `data`: fresh temporary credentials for ImageX. */
  function issueCredentials() {
    const accessKey = `AKTP${randomBytes(8).toString('hex')}`;
    const issued = {
      secretAccessKey: randomBytes(20).toString('base64'),
      sessionToken: randomBytes(24).toString('hex'),
    };
    credentials.set(accessKey, { ...issued, serviceId: 'a9rns2rl98' });
    return {
      service_id: 'a9rns2rl98',
      upload_auth_token: {
        access_key: accessKey,
        secret_key: issued.secretAccessKey,
        session_token: issued.sessionToken,
      },
    };
  }

  /** Answers an ImageX or upload-host call; false when the request is neither. */
  async function handle(req: IncomingMessage, res: ServerResponse, url: URL): Promise<boolean> {
    const path = url.pathname;
    if (path === '/' && url.searchParams.has('Action')) {
      const body = (await requestBody(req)).toString();
      const problem = sigV4Problem(req, body, credentials);
      if (problem)
        return respond(res, 403, { ResponseMetadata: { Error: { Code: 'SignatureDoesNotMatch', Message: problem } } });
      const action = url.searchParams.get('Action');
      if (action === 'ApplyImageUpload') {
        const storeUri = `tos-cn-i-a9rns2rl98/${randomUUID().replaceAll('-', '')}`;
        const store = {
          auth: `SpaceKey/a9rns2rl98/1/:version:v2:${randomBytes(16).toString('hex')}`,
          sessionKey: randomBytes(16).toString('hex'),
          size: Number(url.searchParams.get('FileSize')),
        };
        stores.set(storeUri, store);
        return respond(res, 200, {
          Result: {
            UploadAddress: {
              StoreInfos: [{ StoreUri: storeUri, Auth: store.auth }],
              SessionKey: store.sessionKey,
              ...(knobs.uploadHost !== null && { UploadHosts: [knobs.uploadHost ?? req.headers.host] }),
            },
          },
        });
      }
      if (action === 'CommitImageUpload') {
        const sessionKey = JSON.parse(body || '{}').SessionKey;
        const entry = [...stores.entries()].find(([, s]) => s.sessionKey === sessionKey);
        if (!entry?.[1].bytes) return respond(res, 400, { ResponseMetadata: { Error: { Code: 'InvalidSessionKey' } } });
        const [storeUri, store] = entry;
        const { width = 0, height = 0 } = imageSize(store.bytes!);
        const image = { width, height, md5: createHash('md5').update(store.bytes!).digest('hex'), size: store.size };
        images.set(storeUri, image);
        return respond(res, 200, {
          Result: {
            PluginResult: [
              {
                ImageUri: storeUri,
                ImageWidth: width,
                ImageHeight: height,
                ImageMd5: image.md5,
                ImageSize: image.size,
              },
            ],
          },
        });
      }
      return respond(res, 400, { ResponseMetadata: { Error: { Code: 'InvalidAction' } } });
    }

    if (req.method === 'POST' && path.startsWith('/upload/v1/')) {
      const bytes = await requestBody(req);
      const store = stores.get(decodeURIComponent(path.slice('/upload/v1/'.length)));
      if (!store || req.headers.authorization !== store.auth) return respond(res, 401, { message: 'bad upload auth' });
      const crc = (zlib.crc32(bytes) >>> 0).toString(16).padStart(8, '0');
      if (req.headers['content-crc32'] !== crc) return respond(res, 400, { message: 'CRC32 mismatch' });
      if (bytes.length !== store.size) return respond(res, 400, { message: 'size mismatch' });
      store.bytes = bytes;
      const echoed = knobs.storeAnswer === 'wrong-crc' ? '00000000' : crc;
      if (knobs.storeAnswer === '2025') return respond(res, 200, { message: 'Success' });
      if (knobs.storeAnswer === 'both')
        return respond(res, 200, { code: 2000, message: 'Success', data: { crc32: crc } });
      return respond(res, 200, { code: 2000, data: { crc32: echoed } });
    }

    return false;
  }

  return { images, issueCredentials, handle };
}

/** Sends a JSON answer; true: the call is handled. */
function respond(res: ServerResponse, status: number, body: unknown): true {
  json(res, status, body);
  return true;
}
