/**
 * The fake Doubao's signatures are a real check, not a flag: a signature is accepted only when made with the secret
 * the fake issued to a page of the very session that sends the call, over that call's path, query and body. The
 * test signs by hand with the secret read out of a served page, as only a script inside the page could.
 */
import { createHmac } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type DoubaoFake, startDoubaoFake } from './fakes/doubao/index.js';
import { UNSIGNED_REFUSAL } from './fakes/doubao/page-signer.js';

let fake: DoubaoFake;
beforeEach(async () => {
  fake = await startDoubaoFake({ requireSignature: true });
});
afterEach(() => fake.close());

/** Loads a page as `sessionid` and reads the page id and secret its signing script carries. */
async function pageSecret(sessionid: string): Promise<{ pageId: string; secret: Buffer }> {
  const html = await (await fetch(`${fake.baseUrl}/chat/`, { headers: { cookie: `sessionid=${sessionid}` } })).text();
  const pageId = /const pageId = "([0-9a-f]+)"/.exec(html)![1]!;
  const secret = Buffer.from(/atob\("([^"]+)"\)/.exec(html)![1]!, 'base64');
  return { pageId, secret };
}

/** A play-info call as `sessionid`, signed with `key` over `signedBody` (which may differ from the body sent). */
async function playInfo(sessionid: string, key?: { pageId: string; secret: Buffer }, signedBody?: string) {
  const body = JSON.stringify({ conversation_id: '1' });
  const url = new URL('/samantha/media/get_play_info?aid=497858&device_id=1', fake.baseUrl);
  if (key) {
    const mac = createHmac('sha256', key.secret)
      .update(`${url.pathname}?${url.searchParams.toString()}\n${signedBody ?? body}`)
      .digest('hex');
    url.searchParams.set('a_bogus', `${key.pageId}.${mac}`);
  }
  const res = await fetch(url, { method: 'POST', headers: { cookie: `sessionid=${sessionid}` }, body });
  return { status: res.status, body: (await res.json()) as { code: number } };
}

describe('fake Doubao signature gate', () => {
  it('accepts a call signed with its session’s page secret, refuses unsigned, forged and borrowed ones', async () => {
    const mine = await pageSecret('alice');
    expect((await playInfo('alice', mine)).body.code).toBe(0);
    expect((await playInfo('alice')).body).toMatchObject(UNSIGNED_REFUSAL);
    expect((await playInfo('alice', mine, '{"conversation_id":"2"}')).body).toMatchObject(UNSIGNED_REFUSAL);
    expect((await playInfo('bob', mine)).body).toMatchObject(UNSIGNED_REFUSAL);
    expect((await playInfo('alice', { ...mine, pageId: 'ffffffffffff' })).body).toMatchObject(UNSIGNED_REFUSAL);
    expect(fake.signatures).toMatchObject({ signed: 1, unsigned: 4, refused: 4, pages: 1 });
  });

  it('refuses with a bare 403 when told to, and only counts when signatures are optional', async () => {
    fake.knobs.signatureRefusal = '403';
    expect((await playInfo('alice')).status).toBe(403);
    fake.knobs.requireSignature = false;
    expect((await playInfo('alice')).body.code).toBe(0);
    expect(fake.gatedCalls.map((c) => [c.signed, c.refused])).toEqual([
      [false, true],
      [false, false],
    ]);
  });
});
