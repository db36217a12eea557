/**
 * Generation options as flags in a Telegram prompt or caption: `--ratio 9:16` (also `--ar 9:16`, the common
 * alias), `--duration 10`, `--resolution 720p` (also `--res`), with a space or `=` before the value. Flags are
 * taken out of the prompt before it goes upstream; their values are checked by the core. iOS and macOS turn a
 * typed `--` into `—` (smart punctuation), so an em dash starts a flag too. Anything else that looks like a flag
 * is left in the prompt: a prompt may well contain dashes.
 */
import { InvalidInput, type VideoOptionsInput } from '../../src/core/index.js';

/** Flag names and the option each sets. */
const FLAGS: Record<string, keyof VideoOptionsInput> = {
  ratio: 'ratio',
  ar: 'ratio',
  aspect: 'ratio',
  duration: 'durationS',
  resolution: 'resolution',
  res: 'resolution',
};

/** A known flag with no value after it (`--ratio` at the end of the caption). */
export class FlagWithoutValue extends InvalidInput {
  constructor(readonly flag: string) {
    super(`--${flag} needs a value, e.g. --ratio 9:16 or --duration 10`);
  }
}

// A flag starts the text or follows white space; its value is the next word unless that word is another flag.
const FLAG = /(^|\s)(?:--|—)(ratio|ar|aspect|duration|resolution|res)(?:(?:=|[ \t]+)(?!--|—)(\S+))?(?=\s|$)/giu;

/** The prompt without its flags (white space where they were closed up), and the options they set. */
export function parseOptionFlags(text: string): { prompt: string; options: VideoOptionsInput } {
  const options: VideoOptionsInput = {};
  const prompt = text.replace(FLAG, (_all, before: string, name: string, value: string | undefined) => {
    const flag = name.toLowerCase();
    if (value === undefined) throw new FlagWithoutValue(flag);
    options[FLAGS[flag]!] = value;
    return before;
  });
  return { prompt: prompt.replace(/[ \t]{2,}/g, ' ').trim(), options };
}
