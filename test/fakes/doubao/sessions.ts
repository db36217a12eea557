/** Made-up Doubao sessions for tests (logged-in ones carry `sessionid=`, guests only `ttwid=`), written to a file. */
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import type { SessionFields } from '../../../src/providers/doubao/session-file.js';

export function fakeSession(kind: 'user' | 'guest'): SessionFields {
  const hex = (n: number) => randomBytes(n).toString('hex');
  const login = kind === 'user' ? `sessionid=${hex(16)}; sid_tt=${hex(16)}; ` : '';
  return {
    cookie: `${login}ttwid=1%7C${hex(20)}; passport_csrf_token=${hex(16)}`,
    device_id: String(7e18 + Number.parseInt(hex(6), 16)),
    tea_uuid: String(7e18 + Number.parseInt(hex(6), 16)),
    web_id: String(7e18 + Number.parseInt(hex(6), 16)),
    room_id: String(Number.parseInt(hex(6), 16)),
    x_flow_trace: `04-${hex(16)}-${hex(8)}-01`,
  };
}

/** Writes a sessions file (the seed's list shape unless `shape` says otherwise) and returns the sessions. */
export function writeSessions(
  path: string,
  counts: { users?: number; guests?: number },
  shape: 'list' | 'split' = 'list',
): SessionFields[] {
  const users = Array.from({ length: counts.users ?? 1 }, () => fakeSession('user'));
  const guests = Array.from({ length: counts.guests ?? 0 }, () => fakeSession('guest'));
  const body = shape === 'list' ? [...users, ...guests] : { user_sessions: users, guest_sessions: guests };
  writeFileSync(path, JSON.stringify(body, null, 2));
  return [...users, ...guests];
}

/** The `sessionid` cookie value the fake knows a logged-in session by. */
export function sessionIdCookie(session: SessionFields): string {
  return /sessionid=([^;]+)/.exec(session.cookie)![1]!;
}
