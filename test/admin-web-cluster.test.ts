/**
 * Issue 16 and the admin page: behind one load balancer, each request may reach another process. Two services on
 * one PostgreSQL database (a throw-away cluster): an operator signed in on one is signed in on the other, and
 * signing out on either ends the session everywhere. Plain HTTP, as a browser sends it (cookie, form, CSRF token).
 */
import { createHash } from 'node:crypto';
import { request } from 'undici';
import { afterEach, describe, expect, it } from 'vitest';
import { type AdminHarness, startAdmin } from './support/admin-web.js';
import { clusterForFile } from './support/postgres.js';

const cluster = clusterForFile();
const TOKEN = 'operator-token-0123456789';
const started: AdminHarness[] = [];
afterEach(async () => {
  for (const admin of started.splice(0)) await admin.close();
});

async function twoProcesses(): Promise<[AdminHarness, AdminHarness]> {
  const url = await cluster().createDatabase();
  for (let i = 0; i < 2; i++) started.push(await startAdmin({ env: { DATABASE_URL: url, API_TOKEN: TOKEN } }));
  return [started[0]!, started[1]!];
}

const form = (fields: Record<string, string>) => ({
  method: 'POST' as const,
  headers: { 'content-type': 'application/x-www-form-urlencoded' },
  body: new URLSearchParams(fields).toString(),
});

/** Signs in on `admin` and returns the session cookie (`name=value`). */
async function signIn(admin: AdminHarness): Promise<string> {
  const res = await request(`${admin.base}/admin/login`, form({ token: TOKEN, next: '/admin' }));
  await res.body.dump();
  expect(res.statusCode).toBe(303);
  const cookie = String(res.headers['set-cookie']).split(';')[0]!;
  expect(cookie).toMatch(/^dvb_admin=.+/);
  return cookie;
}

async function overview(admin: AdminHarness, cookie: string) {
  const res = await request(`${admin.base}/admin`, { headers: { cookie } });
  return { status: res.statusCode, location: res.headers.location, html: await res.body.text() };
}

describe('the admin page on several processes (issue 16)', () => {
  it('a session made on one process is known to the other, and signing out on either ends it', async () => {
    const [a, b] = await twoProcesses();
    const cookie = await signIn(a);

    const onB = await overview(b, cookie);
    expect(onB.status).toBe(200);
    const csrf = /name="csrf" value="([^"]+)"/.exec(onB.html)?.[1];
    expect(csrf).toBeTruthy();
    expect((await overview(a, cookie)).status).toBe(200);

    const out = await request(`${b.base}/admin/logout`, {
      ...form({ csrf: csrf! }),
      headers: { ...form({}).headers, cookie },
    });
    await out.body.dump();
    expect(out.statusCode).toBe(303);
    const afterOnA = await overview(a, cookie);
    expect([afterOnA.status, afterOnA.location]).toEqual([303, '/admin/login?next=%2Fadmin']);
  });

  it('a session outlives the process that made it (kept in the database, by a hash of its id only)', async () => {
    const [a, b] = await twoProcesses();
    const cookie = await signIn(a);
    await a.close();
    started.shift();
    expect((await overview(b, cookie)).status).toBe(200);
    const id = decodeURIComponent(cookie.slice('dvb_admin='.length));
    expect(await b.core.store.adminSession(id)).toBeUndefined(); // the database never holds the cookie's value
    const hash = createHash('sha256').update(id).digest('hex');
    expect(await b.core.store.adminSession(hash)).toMatchObject({ csrf: expect.any(String) });
  });
});
