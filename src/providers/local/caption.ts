/**
 * The caption burnt into the local provider's text-to-video: "LOCAL PREVIEW · no AI" and the prompt, so nobody
 * mistakes the preview for a generated video. It needs a font file: a CJK one (Debian `fonts-noto-cjk`, or the
 * WenQuanYi fonts) renders Chinese prompts; without one a Latin font (DejaVu, Liberation) still draws the label and
 * a Latin prompt, and a prompt it cannot draw is left out rather than shown as empty boxes. With no font at all the
 * video has no caption. A caption never fails a render (index.ts renders again without it).
 */
import { existsSync } from 'node:fs';

export interface CaptionFont {
  file: string;
  /** Whether the font has Chinese, Japanese and Korean characters. */
  cjk: boolean;
}

export const PREVIEW_LABEL = 'LOCAL PREVIEW · no AI';

/** Font files looked for, best first: Debian's paths of fonts-noto-cjk, fonts-wqy-*, fonts-dejavu, fonts-liberation. */
const FONT_FILES: readonly CaptionFont[] = [
  { file: '/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc', cjk: true },
  { file: '/usr/share/fonts/opentype/noto/NotoSerifCJK-Regular.ttc', cjk: true },
  { file: '/usr/share/fonts/truetype/wqy/wqy-microhei.ttc', cjk: true },
  { file: '/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc', cjk: true },
  { file: '/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf', cjk: true },
  { file: '/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf', cjk: false },
  { file: '/usr/share/fonts/truetype/liberation/LiberationSans-Regular.ttf', cjk: false },
];

/** The best caption font installed, or undefined when there is none. */
export function findCaptionFont(candidates: readonly CaptionFont[] = FONT_FILES): CaptionFont | undefined {
  return candidates.find((font) => existsSync(font.file));
}

const LINE_CHARS = 36;
const MAX_LINES = 2;
/** Characters a Latin-only font cannot draw: CJK ideographs, kana, hangul, fullwidth forms. */
const WIDE = /[\u2e80-\u9fff\uac00-\ud7af\uf900-\ufaff\uff00-\uffef]/u;

/**
 * The caption's text: the label, then the prompt on at most two lines (cut with "…"), as many characters a line as
 * fit `frameWidth` (36 in the 640-pixel frame, fewer in a portrait one). A prompt the font cannot draw is left out.
 * Wide characters count double when lines are cut.
 */
export function captionText(prompt: string, font: CaptionFont, frameWidth = 640): string {
  const lineChars = Math.min(LINE_CHARS, Math.floor((LINE_CHARS * frameWidth) / 640));
  const flat = prompt.replace(/\s+/g, ' ').trim();
  if (!flat || (!font.cjk && WIDE.test(flat))) return PREVIEW_LABEL;
  const lines: string[] = [];
  let line = '';
  let width = 0;
  for (const char of flat) {
    const w = WIDE.test(char) ? 2 : 1;
    if (width + w > lineChars) {
      lines.push(line);
      if (lines.length === MAX_LINES) break;
      line = '';
      width = 0;
    }
    line += char;
    width += w;
  }
  if (lines.length < MAX_LINES) lines.push(line);
  else lines[MAX_LINES - 1] = `${lines[MAX_LINES - 1]!.slice(0, -1)}…`;
  return `${PREVIEW_LABEL}\n${lines.join('\n').trim()}`;
}

/** Quotes a value for an ffmpeg filter option (inside single quotes only `'` needs care). */
function quoted(value: string): string {
  return `'${value.replace(/'/g, `'\\\\''`)}'`;
}

/**
 * The drawtext filter that burns `textFile` (written by the caller; read as is, no `%{}` expansion) into the
 * lower part of the picture, on a translucent box.
 */
export function captionFilter(font: CaptionFont, textFile: string): string {
  return [
    `drawtext=fontfile=${quoted(font.file)}`,
    `textfile=${quoted(textFile)}`,
    'expansion=none',
    'fontsize=20',
    'line_spacing=6',
    'fontcolor=white',
    'box=1',
    'boxcolor=black@0.55',
    'boxborderw=10',
    'x=(w-text_w)/2',
    'y=h-text_h-24',
  ].join(':');
}
