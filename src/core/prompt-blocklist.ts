/**
 * The prompt block-list (PROMPT_BLOCKLIST_FILE): one entry a line, either a word or phrase matched as a
 * case-insensitive substring (also for Chinese, which has no word boundaries), or `/regex/flags`. Blank lines and
 * `#` comments are ignored. Words are matched on the prompt in a normal form (NFKC, lower case, without invisible
 * format characters), so full-width letters or a zero-width space do not slip past; regexes see the prompt as sent.
 * The service checks it before anything is stored or sent upstream, and counts what it refused here, by platform
 * (`/metrics` reads `blocked`).
 */
import { readFileSync } from 'node:fs';
import type { Platform } from './task.js';

/** The file cannot be used; the message is one line naming the file and the line. */
export class BlocklistInvalid extends Error {
  override readonly name = 'BlocklistInvalid';
}

export class PromptBlocklist {
  readonly #words: string[];
  readonly #patterns: RegExp[];
  /** Prompts refused so far, per platform: the block-list's metric. */
  readonly blocked = new Map<Platform, number>();

  private constructor(words: string[], patterns: RegExp[]) {
    this.#words = words;
    this.#patterns = patterns;
  }

  /** @throws BlocklistInvalid for an invalid regex (naming the line). */
  static parse(text: string, source = 'PROMPT_BLOCKLIST_FILE'): PromptBlocklist {
    const words: string[] = [];
    const patterns: RegExp[] = [];
    for (const [index, raw] of text.split(/\r?\n/).entries()) {
      const line = raw.trim();
      if (!line || line.startsWith('#')) continue;
      const regex = /^\/(.+)\/([a-z]*)$/s.exec(line);
      if (!regex) {
        words.push(normalise(line));
        continue;
      }
      try {
        // `g` and `y` would make `test` remember where it stopped between prompts.
        patterns.push(new RegExp(regex[1]!, regex[2]!.replace(/[gy]/g, '')));
      } catch (error) {
        throw new BlocklistInvalid(
          `${source} line ${index + 1}: ${line} is not a valid regular expression (${(error as Error).message})`,
        );
      }
    }
    return new PromptBlocklist(words, patterns);
  }

  /** @throws BlocklistInvalid when the file cannot be read or holds an invalid regex. */
  static load(file: string): PromptBlocklist {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (error) {
      const code = (error as { code?: string }).code ?? (error as Error).message;
      throw new BlocklistInvalid(`PROMPT_BLOCKLIST_FILE (${file}) cannot be read (${code}); fix the path or unset it`);
    }
    return PromptBlocklist.parse(text, `PROMPT_BLOCKLIST_FILE (${file})`);
  }

  get size(): number {
    return this.#words.length + this.#patterns.length;
  }

  /** True when the prompt hits an entry; counted for `platform` then. */
  check(prompt: string, platform: Platform): boolean {
    const plain = normalise(prompt);
    const hit = this.#words.some((word) => plain.includes(word)) || this.#patterns.some((re) => re.test(prompt));
    if (hit) this.blocked.set(platform, (this.blocked.get(platform) ?? 0) + 1);
    return hit;
  }
}

function normalise(text: string): string {
  return text
    .normalize('NFKC')
    .replace(/\p{Cf}/gu, '')
    .toLowerCase();
}
