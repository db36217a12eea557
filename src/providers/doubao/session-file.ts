/**
 * Reading and writing the Doubao sessions file (`DOUBAO_SESSIONS_FILE`). Two shapes exist in the wild: a plain
 * list of sessions (the seed's `session.json`) and `{guest_sessions, user_sessions}`; both are read, and a write
 * keeps the shape the file already has. Writes go through a temporary file and a rename so a crash never leaves
 * half a file behind.
 */
import { existsSync } from 'node:fs';
import { readFile, rename, writeFile } from 'node:fs/promises';
import { z } from 'zod';

/** One Doubao web login (or guest): the six strings the web client sends. */
export interface SessionFields {
  cookie: string;
  device_id: string;
  tea_uuid: string;
  web_id: string;
  room_id: string;
  x_flow_trace: string;
  /** How operators name this account in alerts and status (optional; never a secret). */
  label?: string;
}

const text = z.coerce.string().trim().min(1);
const sessionSchema = z.object({
  cookie: text,
  device_id: text,
  tea_uuid: text,
  web_id: text,
  room_id: text,
  x_flow_trace: text,
  label: z.string().trim().min(1).max(80).optional(),
});
const fileSchema = z.union([
  z.array(sessionSchema),
  z.object({
    guest_sessions: z.array(sessionSchema).default([]),
    user_sessions: z.array(sessionSchema).default([]),
  }),
]);

/** A session is a guest when its cookie carries no login (`sessionid=`). */
export function isGuestCookie(cookie: string): boolean {
  return !/(^|;\s*)sessionid=/.test(cookie);
}

/** Parses the file's text; the error names the file and the first problem, never a cookie. */
export function parseSessionsFile(json: string, path: string): SessionFields[] {
  let raw: unknown;
  try {
    raw = JSON.parse(json);
  } catch {
    throw new Error(`${path} is not valid JSON`);
  }
  const parsed = fileSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new Error(`${path}: ${issue.path.join('.') || 'the file'} ${issue.message}`);
  }
  const data = parsed.data;
  return Array.isArray(data) ? data : [...data.user_sessions, ...data.guest_sessions];
}

/** All sessions in the file; none when the file does not exist. */
export async function readSessionsFile(path: string): Promise<SessionFields[]> {
  if (!existsSync(path)) return [];
  return parseSessionsFile(await readFile(path, 'utf8'), path);
}

/** Rewrites the file with `sessions`, in the shape it had (a list when new). */
async function writeSessionsFile(path: string, sessions: SessionFields[]): Promise<void> {
  const old = existsSync(path) ? JSON.parse(await readFile(path, 'utf8')) : [];
  const body = Array.isArray(old)
    ? sessions
    : {
        ...old,
        user_sessions: sessions.filter((s) => !isGuestCookie(s.cookie)),
        guest_sessions: sessions.filter((s) => isGuestCookie(s.cookie)),
      };
  const temporary = `${path}.${process.pid}.tmp`;
  await writeFile(temporary, `${JSON.stringify(body, null, 2)}\n`, { mode: 0o600 });
  await rename(temporary, path);
}

/** Adds a session (replacing one with the same device_id). */
export async function appendSession(path: string, session: SessionFields): Promise<void> {
  const sessions = (await readSessionsFile(path)).filter((s) => s.device_id !== session.device_id);
  await writeSessionsFile(path, [...sessions, sessionSchema.parse(session)]);
}

/** Removes every session for which `matches` is true (a used-up guest). */
export async function removeSessions(path: string, matches: (s: SessionFields) => boolean): Promise<void> {
  const sessions = await readSessionsFile(path);
  const kept = sessions.filter((s) => !matches(s));
  if (kept.length !== sessions.length) await writeSessionsFile(path, kept);
}
