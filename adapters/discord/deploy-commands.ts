/**
 * `npm run discord:register`: reads the configuration (and `.env`) and registers the slash commands with
 * Discord, in DISCORD_GUILD_ID when set, else globally; `/video` offers the options PROVIDER honours.
 */
import { REST } from 'discord.js';
import { ConfigError, loadConfigOrExit } from '../../src/config.js';
import { capabilitiesOf } from '../../src/providers/index.js';
import { safeError } from './error-reply.js';
import { registerCommands } from './register.js';

const config = loadConfigOrExit();
try {
  if (!config.DISCORD_TOKEN || !config.DISCORD_APP_ID) {
    throw new ConfigError('Invalid DISCORD_TOKEN: DISCORD_TOKEN and DISCORD_APP_ID are required to register commands');
  }
  const rest = new REST(config.DISCORD_API_BASE ? { api: config.DISCORD_API_BASE } : {}).setToken(config.DISCORD_TOKEN);
  const count = await registerCommands(
    rest,
    config.DISCORD_APP_ID,
    config.DISCORD_GUILD_ID,
    capabilitiesOf(config.PROVIDER),
  );
  const scope = config.DISCORD_GUILD_ID ? `in guild ${config.DISCORD_GUILD_ID}` : 'globally (may take up to an hour)';
  console.log(`registered ${count} commands ${scope}`);
} catch (error) {
  console.error(error instanceof ConfigError ? error.message : safeError(error));
  process.exitCode = 1;
}
