/**
 * Generation options a task may carry — aspect ratio, duration, resolution — and the one place they are checked
 * (zod): first that each value is one this service knows, then that the running provider can honour it (its
 * `capabilities`). A request the provider cannot honour is refused with a sentence saying what it supports, never
 * silently ignored. A request without options gets none: the provider's own defaults, as before options existed.
 */
import { z } from 'zod';
import { InvalidInput } from './errors.js';

/** Every aspect ratio any provider takes (the Seedance set), widest-used first. */
export const RATIOS = ['16:9', '9:16', '1:1', '4:3', '3:4', '21:9'] as const;
/** Every duration (seconds) any provider takes: the two lengths Doubao and Seedance both offer. */
export const DURATIONS_S = [5, 10] as const;
/** Output resolutions (Ark only). */
export const RESOLUTIONS = ['480p', '720p', '1080p'] as const;

export type Ratio = (typeof RATIOS)[number];
export type Resolution = (typeof RESOLUTIONS)[number];

/** What a task asked for; an absent field means the provider's default. */
export interface VideoOptions {
  ratio?: Ratio;
  durationS?: number;
  resolution?: Resolution;
}

/** What a provider can honour; an empty list means it cannot set that option at all. */
export interface VideoCapabilities {
  ratios: readonly Ratio[];
  durationsS: readonly number[];
  resolutions: readonly Resolution[];
}

/** A provider that declares nothing honours no option (and still takes every request without one). */
export const NO_CAPABILITIES: VideoCapabilities = { ratios: [], durationsS: [], resolutions: [] };

/** Options as adapters hand them over, before checking: text from a flag or a form, a number from JSON. */
export interface VideoOptionsInput {
  ratio?: unknown;
  durationS?: unknown;
  resolution?: unknown;
}

export type OptionName = 'ratio' | 'duration' | 'resolution';

/**
 * A refused option: `reason` says whether the value is unknown here (`invalid`) or the provider cannot honour it
 * (`unsupported`); `supported` lists what would be accepted (empty: the provider cannot set this option). Adapters
 * may word it in the user's language from these fields; the message is an English sentence.
 */
export class OptionRefused extends InvalidInput {
  constructor(
    readonly option: OptionName,
    readonly value: string,
    readonly reason: 'invalid' | 'unsupported',
    readonly supported: readonly string[],
    message: string,
  ) {
    super(message);
  }
}

/** "9:16" also written with spaces, a full-width colon, `x`, `×` or `/` between the numbers. */
const ratioSchema = z
  .string()
  .trim()
  .transform((s) => s.replace(/\s+/g, '').replace(/[：x×/]/gi, ':'))
  .pipe(z.enum(RATIOS));
/** 10, "10", "10s", "10 秒" */
const durationSchema = z.union([
  z.number().int(),
  z
    .string()
    .trim()
    .regex(/^\d{1,3}\s*(s|sec|secs|seconds?|秒)?$/i)
    .transform((s) => Number.parseInt(s, 10)),
]);
/** "720p", "720P" or "720". */
const resolutionSchema = z
  .string()
  .trim()
  .toLowerCase()
  .transform((s) => (/^\d+$/.test(s) ? `${s}p` : s))
  .pipe(z.enum(RESOLUTIONS));

const present = (v: unknown) => v !== undefined && v !== null && v !== '';

/**
 * Checks the options of a request against the known values and the provider's capabilities.
 * @returns the options to store (only the ones given), or null when none was given.
 * @throws OptionRefused (an InvalidInput) naming the option, the value and what the provider supports.
 */
export function checkOptions(
  input: VideoOptionsInput | undefined,
  capabilities: VideoCapabilities,
  provider: string,
): VideoOptions | null {
  const options: VideoOptions = {};
  const check = <T extends string | number>(
    option: OptionName,
    raw: unknown,
    schema: z.ZodType<T>,
    known: readonly T[],
    supported: readonly T[],
  ): T => {
    const parsed = schema.safeParse(raw);
    const text = typeof raw === 'string' || typeof raw === 'number' ? String(raw).trim() : JSON.stringify(raw);
    const shown = [...text].length > 40 ? `${[...text].slice(0, 39).join('')}…` : text; // echoed, so kept short
    const valid = parsed.success && known.includes(parsed.data);
    if (valid && supported.includes(parsed.data)) return parsed.data;
    throw refusal(
      option,
      valid ? String(parsed.data) : shown,
      valid ? 'unsupported' : 'invalid',
      supported.map(String),
      provider,
    );
  };
  if (present(input?.ratio)) {
    options.ratio = check('ratio', input?.ratio, ratioSchema, RATIOS, capabilities.ratios);
  }
  if (present(input?.durationS)) {
    options.durationS = check('duration', input?.durationS, durationSchema, DURATIONS_S, capabilities.durationsS);
  }
  if (present(input?.resolution)) {
    options.resolution = check(
      'resolution',
      input?.resolution,
      resolutionSchema,
      RESOLUTIONS,
      capabilities.resolutions,
    );
  }
  return Object.keys(options).length ? options : null;
}

/** The sentence of a refusal; every form says what the provider does support. */
function refusal(
  option: OptionName,
  value: string,
  reason: 'invalid' | 'unsupported',
  supported: readonly string[],
  provider: string,
): OptionRefused {
  const list = (option === 'duration' ? supported.map((v) => `${v} s`) : supported).join(', ');
  const message =
    supported.length === 0
      ? `the ${provider} provider cannot set the ${option}; leave it out`
      : reason === 'invalid'
        ? `${option} "${value}" is not valid; the ${provider} provider supports ${option} ${list}`
        : `the ${provider} provider cannot make ${option} ${option === 'duration' ? `${value} s` : value}; it supports ${list}`;
  return new OptionRefused(option, value, reason, supported, message);
}

/** The options as one short line for status texts: "9:16 · 10 s · 720p" (empty when none). */
export function describeOptions(options: VideoOptions | null | undefined): string {
  if (!options) return '';
  return [options.ratio, options.durationS && `${options.durationS} s`, options.resolution].filter(Boolean).join(' · ');
}

/** Whether two tasks asked for the same options (null and {} alike). */
export function sameOptions(a: VideoOptions | null | undefined, b: VideoOptions | null | undefined): boolean {
  return (
    (a?.ratio ?? null) === (b?.ratio ?? null) &&
    (a?.durationS ?? null) === (b?.durationS ?? null) &&
    (a?.resolution ?? null) === (b?.resolution ?? null)
  );
}
