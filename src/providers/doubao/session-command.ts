/**
 * `npm run session`: adds a Doubao session to the sessions file, either captured from a visible Chromium login
 * (the default) or imported from values copied out of the browser's devtools (`--import '<cookie header>'` plus
 * the five ids). Prints the session's safe id, never its cookie.
 */
import { parseArgs } from 'node:util';
import type { BrowserProxy } from './chromium.js';
import { captureSession } from './session-capture.js';
import { appendSession, isGuestCookie, type SessionFields } from './session-file.js';
import { sessionIdOf } from './session-pool.js';

export const SESSION_USAGE = `Usage:
  npm run session                      open Chromium, log in to Doubao and send any message
  npm run session -- --import '<cookie header>' --device-id <id> --tea-uuid <id> --web-id <id>
                     --room-id <id> --x-flow-trace <value>
Options: --file <path> (default: DOUBAO_SESSIONS_FILE)`;

export interface SessionCommandDeps {
  sessionsFile: string;
  chromiumPath: string;
  baseUrl: string;
  /** The proxy the login browser goes through; absent → direct. */
  browserProxy?: BrowserProxy;
  print: (line: string) => void;
  /** Whether a window can open here (DISPLAY or WAYLAND_DISPLAY is set). @defaultValue true */
  hasDisplay?: boolean;
}

const IMPORT_FLAGS = ['device-id', 'tea-uuid', 'web-id', 'room-id', 'x-flow-trace'] as const;

/** Runs the command; resolves with the exit code. */
export async function runSessionCommand(argv: string[], deps: SessionCommandDeps): Promise<number> {
  let values: Record<string, string | boolean | undefined>;
  try {
    values = parseArgs({
      args: argv,
      options: {
        import: { type: 'string' },
        file: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
        ...Object.fromEntries(IMPORT_FLAGS.map((flag) => [flag, { type: 'string' as const }])),
      },
    }).values;
  } catch (error) {
    deps.print(`${(error as Error).message}\n${SESSION_USAGE}`);
    return 2;
  }
  if (values.help) {
    deps.print(SESSION_USAGE);
    return 0;
  }
  const file = typeof values.file === 'string' ? values.file : deps.sessionsFile;
  let session: SessionFields;
  if (values.import !== undefined) {
    const missing = IMPORT_FLAGS.filter((flag) => !values[flag]);
    if (!String(values.import).trim() || missing.length > 0) {
      const names = [...(String(values.import).trim() ? [] : ['--import']), ...missing.map((m) => `--${m}`)];
      deps.print(`missing ${names.join(', ')}\n${SESSION_USAGE}`);
      return 2;
    }
    session = {
      cookie: String(values.import)
        .replace(/^cookie:\s*/i, '')
        .trim(),
      device_id: String(values['device-id']),
      tea_uuid: String(values['tea-uuid']),
      web_id: String(values['web-id']),
      room_id: String(values['room-id']),
      x_flow_trace: String(values['x-flow-trace']),
    };
  } else if (deps.hasDisplay === false) {
    deps.print(
      'No display here (DISPLAY and WAYLAND_DISPLAY are not set), so the login window cannot open: use `--import` with values copied from a browser elsewhere (see docs/doubao-session.md)',
    );
    return 1;
  } else {
    deps.print('A Chromium window opens: log in to Doubao, then send any message in a chat (5 minutes at most).');
    try {
      session = await captureSession({
        chromiumPath: deps.chromiumPath,
        baseUrl: deps.baseUrl,
        ...(deps.browserProxy && { proxy: deps.browserProxy }),
      });
    } catch (error) {
      deps.print(`No session captured: ${(error as Error).message.split('\n')[0]}`);
      return 1;
    }
  }
  await appendSession(file, session);
  const kind = isGuestCookie(session.cookie) ? 'guest (not logged in: uploads will not work)' : 'logged in';
  deps.print(`Session ${sessionIdOf(session)} (${kind}) saved to ${file}`);
  return 0;
}
