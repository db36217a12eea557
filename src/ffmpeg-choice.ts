/**
 * Which ffmpeg the service runs, chosen once at start-up (`main.ts`) and handed to the core (image checks, video
 * conversion) and to the local provider (renders): `FFMPEG_PATH` when set; else the system's (the first `ffmpeg` on
 * PATH that answers `-version`; Debian's is maintained, e.g. `/usr/bin/ffmpeg` from `apt-get install ffmpeg`); else
 * the binary packaged by the optional dependency @ffmpeg-installer/ffmpeg (a static build from 2018), imported only
 * then, so a machine without it still starts.
 */
import { execFile } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';
import { promisify } from 'node:util';
import type { Config } from './config.js';
import type { Logger } from './logger.js';

const run = promisify(execFile);

export interface FfmpegChoice {
  path: string;
  source: 'FFMPEG_PATH' | 'system' | 'packaged';
  /** The first line of `ffmpeg -version`, when it answered. */
  version?: string;
}

/** The packaged binary's path, or undefined when the optional dependency is not installed. */
async function packagedFfmpeg(): Promise<string | undefined> {
  try {
    const { default: installer } = await import('@ffmpeg-installer/ffmpeg');
    return installer.path;
  } catch {
    return undefined;
  }
}

/** The first line of `<path> -version`, or undefined when it does not run. */
async function versionOf(path: string): Promise<string | undefined> {
  try {
    const { stdout } = await run(path, ['-version'], { timeout: 10_000 });
    return stdout.split('\n')[0]?.trim() || undefined;
  } catch {
    return undefined;
  }
}

/** The executable files named `ffmpeg` in the folders of `searchPath`, in order. */
function onPath(searchPath: string): string[] {
  return searchPath
    .split(delimiter)
    .filter(Boolean)
    .map((dir) => join(dir, 'ffmpeg'))
    .filter((file) => {
      try {
        accessSync(file, constants.X_OK);
        return true;
      } catch {
        return false;
      }
    });
}

/** Picks the ffmpeg to run (see the file's comment); undefined when there is none at all. */
export async function chooseFfmpeg(options: {
  override?: string;
  searchPath: string;
  packaged?: () => Promise<string | undefined>;
}): Promise<FfmpegChoice | undefined> {
  if (options.override) {
    const version = await versionOf(options.override);
    return { path: options.override, source: 'FFMPEG_PATH', ...(version && { version }) };
  }
  for (const path of onPath(options.searchPath)) {
    const version = await versionOf(path);
    if (version) return { path, source: 'system', version };
  }
  const packaged = await (options.packaged ?? packagedFfmpeg)();
  if (!packaged) return undefined;
  const version = await versionOf(packaged);
  return { path: packaged, source: 'packaged', ...(version && { version }) };
}

/** The ffmpeg the service will run, said in the log; undefined (and an error logged) when there is none at all. */
export async function chooseServiceFfmpeg(
  config: Pick<Config, 'FFMPEG_PATH' | 'PATH'>,
  log: Logger,
): Promise<string | undefined> {
  const choice = await chooseFfmpeg({ override: config.FFMPEG_PATH, searchPath: config.PATH });
  if (!choice) {
    log.error(
      'no ffmpeg found: install one (`apt-get install -y ffmpeg`) or set FFMPEG_PATH; local renders will fail, ' +
        'images are checked by their header only and videos are kept as downloaded',
    );
    return undefined;
  }
  log.info({ path: choice.path, version: choice.version ?? 'unknown' }, `using the ${choice.source} ffmpeg`);
  return choice.path;
}
