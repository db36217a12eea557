/** Entry point of `npm run session` (see session-command.ts); reads `.env` and the configuration like `npm start`. */
import { existsSync } from 'node:fs';
import { ConfigError, loadConfig } from '../../config.js';
import { runSessionCommand } from './session-command.js';

if (existsSync('.env')) process.loadEnvFile('.env');
let config: ReturnType<typeof loadConfig>;
try {
  config = loadConfig();
} catch (error) {
  if (!(error instanceof ConfigError)) throw error;
  console.error(error.message);
  process.exit(1);
}
process.exitCode = await runSessionCommand(process.argv.slice(2), {
  sessionsFile: config.DOUBAO_SESSIONS_FILE,
  chromiumPath: config.CHROMIUM_PATH ?? '/usr/bin/chromium',
  baseUrl: config.DOUBAO_BASE_URL,
  print: (line) => console.log(line),
});
