import aws4 from 'aws4';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { crc32Hex } from '../src/providers/doubao/upload.js';
import { type DoubaoFake, startDoubaoFake } from './fakes/doubao/index.js';
import { fakeSession } from './fakes/doubao/sessions.js';
import { sampleImage } from './support/media-samples.js';

/** The fake checks what the provider sends: these calls are made by hand to prove a wrong one is refused. */
describe('fake Doubao upload checks', () => {
  let fake: DoubaoFake;
  const session = fakeSession('user');
  let creds: { accessKeyId: string; secretAccessKey: string; sessionToken: string };

  beforeAll(async () => {
    fake = await startDoubaoFake();
    const query = new URLSearchParams({
      aid: '497858',
      device_id: session.device_id,
      tea_uuid: session.tea_uuid,
      web_id: session.web_id,
      samantha_web: '1',
    });
    const res = await request(`${fake.baseUrl}/alice/resource/prepare_upload?${query}`, {
      method: 'POST',
      headers: { cookie: session.cookie, 'content-type': 'application/json' },
      body: JSON.stringify({ resource_type: 2, scene_id: '5', tenant_id: '5' }),
    });
    const token = ((await res.body.json()) as { data: { upload_auth_token: Record<string, string> } }).data
      .upload_auth_token;
    creds = { accessKeyId: token.access_key!, secretAccessKey: token.secret_key!, sessionToken: token.session_token! };
  });
  afterAll(() => fake.close());

  const apply = (secret: string, tamper = (path: string) => path) => {
    const host = new URL(fake.imagexUrl).host;
    const path = '/?Action=ApplyImageUpload&Version=2018-08-01&ServiceId=a9rns2rl98&FileSize=100&FileExtension=.png';
    const signed = aws4.sign(
      { host, path, method: 'GET', service: 'imagex', region: 'cn-north-1' },
      { ...creds, secretAccessKey: secret },
    );
    const { Host: _host, ...headers } = signed.headers as Record<string, string>;
    return request(`${fake.imagexUrl}${tamper(path)}`, { headers });
  };

  it('accepts ApplyImageUpload signed with the issued secret', async () => {
    const res = await apply(creds.secretAccessKey);
    expect(res.statusCode).toBe(200);
    expect(await res.body.json()).toMatchObject({ Result: { UploadAddress: { SessionKey: expect.any(String) } } });
  });

  it('rejects a signature made with another secret, or a query changed after signing', async () => {
    const wrong = await apply('not-the-secret');
    expect(wrong.statusCode).toBe(403);
    expect(JSON.stringify(await wrong.body.json())).toContain('SignatureDoesNotMatch');
    const tampered = await apply(creds.secretAccessKey, (p) => p.replace('FileSize=100', 'FileSize=999'));
    expect(tampered.statusCode).toBe(403);
    await tampered.body.dump();
  });

  it('stores an upload only when its CRC32 matches the bytes', async () => {
    const bytes = sampleImage('png', 40, 30);
    const host = new URL(fake.imagexUrl).host;
    const signed = aws4.sign(
      {
        host,
        path: `/?Action=ApplyImageUpload&Version=2018-08-01&ServiceId=a9rns2rl98&FileSize=${bytes.length}&FileExtension=.png`,
        service: 'imagex',
        region: 'cn-north-1',
      },
      creds,
    );
    const { Host: _host, ...headers } = signed.headers as Record<string, string>;
    const applied = (await (await request(`${fake.imagexUrl}${signed.path}`, { headers })).body.json()) as {
      Result: { UploadAddress: { StoreInfos: Array<{ StoreUri: string; Auth: string }> } };
    };
    const store = applied.Result.UploadAddress.StoreInfos[0]!;
    const upload = (crc: string) =>
      request(`${fake.uploadUrl}/upload/v1/${store.StoreUri}`, {
        method: 'POST',
        headers: { authorization: store.Auth, 'content-type': 'application/octet-stream', 'content-crc32': crc },
        body: bytes,
      });
    const bad = await upload('00000000');
    expect(bad.statusCode).toBe(400);
    expect(await bad.body.json()).toEqual({ message: 'CRC32 mismatch' });
    const good = await upload(crc32Hex(bytes));
    expect(good.statusCode).toBe(200);
    expect(await good.body.json()).toMatchObject({ message: 'Success' });
  });

  it('computes CRC-32 as the IEEE check value says', () => {
    expect(crc32Hex(Buffer.from('123456789'))).toBe('cbf43926');
    expect(crc32Hex(new Uint8Array(0))).toBe('00000000');
  });
});
