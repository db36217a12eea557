/**
 * Renders the local provider's videos with ffmpeg: real H.264 MP4s, made without any AI — 640×360 and 5 seconds
 * unless the task asked for a ratio (then 720 pixels on the short side: 9:16 → 720×1280) or a duration.
 * Text-to-video is a Mandelbrot zoom whose place, depth and colours derive from the prompt (the same prompt
 * always gives the same video), with the caption of caption.ts when one is given; image-to-video shows the whole
 * picture (a portrait is never cropped) over a slowly zooming, blurred fill of the frame. A 720-pixel video's
 * fractal and blurred fill are computed at half size and scaled up: half the render time, the same look.
 */
import { createHash, randomUUID } from 'node:crypto';
import { mkdir, rename, rm } from 'node:fs/promises';
import { dirname } from 'node:path';
import { runKillable } from '../../core/child-process.js';
import type { Ratio, VideoOptions } from '../../core/options.js';

const FPS = 25;

/** The size and length of one render. */
export interface Shape {
  width: number;
  height: number;
  seconds: number;
}

/** What a task without options gets: the preview as it always was. */
export const DEFAULT_SHAPE: Shape = { width: 640, height: 360, seconds: 5 };

/** Frame sizes by ratio, 720 pixels on the short side (even numbers, as H.264 in yuv420p needs). */
const RATIO_SIZES: Record<Ratio, [number, number]> = {
  '16:9': [1280, 720],
  '9:16': [720, 1280],
  '1:1': [720, 720],
  '4:3': [960, 720],
  '3:4': [720, 960],
  '21:9': [1680, 720],
};

/** The shape a task's options ask for; what they leave out stays as in DEFAULT_SHAPE. */
export function shapeFor(options: VideoOptions | undefined): Shape {
  const [width, height] = options?.ratio ? RATIO_SIZES[options.ratio] : [DEFAULT_SHAPE.width, DEFAULT_SHAPE.height];
  return { width, height, seconds: options?.durationS ?? DEFAULT_SHAPE.seconds };
}

/** The size the costly part of a scene is computed at: half of a 720-pixel frame, the frame itself otherwise. */
export function sceneSize(shape: Shape): { width: number; height: number; scaleUp: string[] } {
  const half = Math.min(shape.width, shape.height) >= 720;
  if (!half) return { width: shape.width, height: shape.height, scaleUp: [] };
  return { width: shape.width / 2, height: shape.height / 2, scaleUp: [`scale=${shape.width}:${shape.height}`] };
}

/** Places on the Mandelbrot set's border worth zooming into. */
const SPOTS: readonly [number, number][] = [
  [-0.743643887037151, 0.13182590420533],
  [-0.7453, 0.1127],
  [-0.16070135, 1.0375665],
  [-1.25066, 0.02012],
  [0.001643721971153, -0.822467633298876],
  [-0.10109636384562, 0.95628651080914],
  [-1.7497591451303, 0],
  [0.285, 0.01],
];

/**
 * The ffmpeg input and filter arguments for a prompt, with `overlay` (a filter, e.g. the caption, drawn at the
 * scene's size) on top; pure.
 */
export function textScene(prompt: string, overlay?: string, shape: Shape = DEFAULT_SHAPE): string[] {
  const hash = createHash('sha256').update(prompt).digest();
  const [x, y] = SPOTS[hash[0]! % SPOTS.length]!;
  const endScale = 0.002 + (hash[1]! / 255) * 0.05;
  const hue = hash[2]! % 360;
  const hueSpeed = 10 + (hash[3]! % 60);
  const saturation = 1 + (hash[4]! / 255) * 1.5;
  const scene = sceneSize(shape);
  return [
    '-f',
    'lavfi',
    '-i',
    `mandelbrot=s=${scene.width}x${scene.height}:r=${FPS}:start_x=${x}:start_y=${y}:start_scale=3:end_scale=${endScale.toFixed(4)}:end_pts=${shape.seconds * FPS}:maxiter=256`,
    '-vf',
    [
      `hue=h=${hue}+t*${hueSpeed}:s=${saturation.toFixed(2)}`,
      ...(overlay ? [overlay] : []),
      ...scene.scaleUp,
      'format=yuv420p',
    ].join(','),
  ];
}

/** The ffmpeg input and filter arguments for a PNG (looped: one decoded frame): see `wholePictureFilter`. */
export function imageScene(imagePath: string, shape: Shape = DEFAULT_SHAPE): string[] {
  return ['-loop', '1', '-framerate', String(FPS), '-i', imagePath, '-filter_complex', wholePictureFilter(shape)];
}

/**
 * The whole picture, scaled to fit the frame (a portrait image keeps its heads and feet), over a blurred, slowly
 * zooming copy of it that fills the rest of the frame.
 */
function wholePictureFilter(shape: Shape): string {
  const scene = sceneSize(shape);
  const [w2, h2] = [scene.width * 2, scene.height * 2];
  const background = [
    `scale=${w2}:${h2}:force_original_aspect_ratio=increase`,
    `crop=${w2}:${h2}`,
    'boxblur=20:2',
    `zoompan=z='min(zoom+0.0025,1.3)':d=${shape.seconds * FPS}:x='iw/2-(iw/zoom/2)':y='ih/2-(ih/zoom/2)':s=${scene.width}x${scene.height}:fps=${FPS}`,
    ...scene.scaleUp,
  ].join(',');
  const picture = `scale=${shape.width}:${shape.height}:force_original_aspect_ratio=decrease`;
  return `[0:v]split=2[bg][fg];[bg]${background}[b];[fg]${picture}[f];[b][f]overlay=(W-w)/2:(H-h)/2:shortest=1,format=yuv420p`;
}

/** How long one render may take; then its process group is stopped (SIGTERM, then SIGKILL). */
export const RENDER_TIMEOUT_MS = 120_000;

/**
 * Runs ffmpeg for a scene and writes the MP4 atomically to `output`; a failed render leaves no partial file.
 * Each run writes its own temporary file, so two renders of one video (two processes on one DATA_DIR) never
 * write into one file nor rename one file twice: the last rename wins and both succeed.
 * ffmpeg runs in its own process group, stopped on timeout or when `signal` aborts (see child-process.ts); its
 * CPU-time limit (`-timelimit`) also ends it should this process die without stopping it.
 */
export async function renderVideo(
  ffmpegPath: string,
  scene: string[],
  output: string,
  options: { signal?: AbortSignal; timeoutMs?: number; seconds?: number } = {},
): Promise<void> {
  const partial = `${output}.${randomUUID()}.part.mp4`;
  const timeoutMs = options.timeoutMs ?? RENDER_TIMEOUT_MS;
  await mkdir(dirname(output), { recursive: true });
  await runKillable(
    ffmpegPath,
    [
      '-v',
      'error',
      '-nostdin',
      '-timelimit',
      String(Math.ceil(timeoutMs / 1000) * 2),
      '-y',
      ...scene,
      '-t',
      String(options.seconds ?? DEFAULT_SHAPE.seconds),
      '-c:v',
      'libx264',
      '-preset',
      'veryfast',
      '-crf',
      '26',
      '-movflags',
      '+faststart',
      partial,
    ],
    { timeoutMs, ...(options.signal && { signal: options.signal }) },
  ).catch(async (error: unknown) => {
    await rm(partial, { force: true });
    throw error;
  });
  await rename(partial, output);
}
