/** Entry point of `npm run session` (see session-command.ts); reads `.env` and the configuration like `npm start`. */
import { loadConfigOrExit } from '../../config.js';
import { browserProxy } from '../../proxy.js';
import { runSessionCommand } from './session-command.js';

const config = loadConfigOrExit();
process.exitCode = await runSessionCommand(process.argv.slice(2), {
  sessionsFile: config.DOUBAO_SESSIONS_FILE,
  chromiumPath: config.CHROMIUM_PATH ?? '/usr/bin/chromium',
  baseUrl: config.DOUBAO_BASE_URL,
  ...withProxy(),
  print: (line) => console.log(line),
  hasDisplay: !!(config.DISPLAY || config.WAYLAND_DISPLAY),
});

/** The login browser goes through the configured proxy, like the service's Chromium. */
function withProxy() {
  const proxy = browserProxy(config);
  return proxy ? { browserProxy: proxy } : {};
}
