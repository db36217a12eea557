/**
 * Playable everywhere: a re-hosted video whose picture is not H.264 (Doubao sometimes serves HEVC, which many chat
 * clients show as a black box or refuse) is converted to H.264/AAC MP4 by ffmpeg before anyone is given it; the
 * file as downloaded is kept beside it (`<id>.original.mp4`).
 *
 * The codec is read from the MP4 itself (the video track's sample description, `avc1` vs `hvc1`/`hev1`): no
 * process, no dependence on ffmpeg's log wording, and ffprobe is not shipped by @ffmpeg-installer. Only a file
 * that is not ISO-BMFF (WebM, MPEG-TS…) is asked of ffmpeg (`ffmpeg -i` names each stream's codec).
 */
import { execFile } from 'node:child_process';
import { type FileHandle, open, rename, rm } from 'node:fs/promises';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** Sample entry types of H.264 (ISO/IEC 14496-15): what every player accepts. */
const H264_ENTRIES = new Set(['avc1', 'avc2', 'avc3', 'avc4']);
const HEVC_ENTRIES = new Set(['hvc1', 'hev1', 'dvh1', 'dvhe']);
/** A `moov` larger than this is not a video we made or fetched; reading it all is refused. */
const MAX_MOOV_BYTES = 64 * 1024 * 1024;

/**
 * The picture codec of a video file: `h264`, `hevc`, another codec's name (`av01`, `vp09`, `mpeg4`…), or
 * `unknown` when neither the MP4 boxes nor ffmpeg can tell.
 */
export async function videoCodec(path: string, ffmpegPath?: string): Promise<string> {
  const entry = await mp4VideoSampleEntry(path);
  if (entry) return H264_ENTRIES.has(entry) ? 'h264' : HEVC_ENTRIES.has(entry) ? 'hevc' : entry;
  return ffmpegPath ? ffmpegVideoCodec(ffmpegPath, path) : 'unknown';
}

export interface PlayableResult {
  /** The picture codec as downloaded. */
  codec: string;
  /** Where the file as downloaded was kept, when it had to be converted. */
  originalPath?: string;
}

/**
 * Makes `path` an H.264 MP4 in place when it is not one: the download moves to `originalPath`, the converted copy
 * takes its name. A file whose codec nobody can tell is left alone (it may still play; ffmpeg could not read it).
 * @throws Error when ffmpeg fails or takes longer than `timeoutMs`; `path` then still holds the download.
 */
export async function ensurePlayable(
  path: string,
  options: { ffmpegPath: string; originalPath: string; timeoutMs: number },
): Promise<PlayableResult> {
  const codec = await videoCodec(path, options.ffmpegPath);
  if (codec === 'h264' || codec === 'unknown') return { codec };
  const partial = `${path}.h264.part.mp4`;
  try {
    await run(
      options.ffmpegPath,
      [
        ...['-v', 'error', '-y', '-i', path, '-map', '0:v:0', '-map', '0:a:0?'],
        // yuv420p and even sizes: what baseline players (phones, Telegram's preview) decode; HEVC is often 10-bit.
        ...['-c:v', 'libx264', '-preset', 'veryfast', '-crf', '20', '-pix_fmt', 'yuv420p'],
        ...['-vf', 'scale=trunc(iw/2)*2:trunc(ih/2)*2', '-c:a', 'aac', '-b:a', '128k', '-movflags', '+faststart'],
        partial,
      ],
      { timeout: options.timeoutMs, maxBuffer: 1024 * 1024 },
    );
    // ffmpeg exits 0 on an input it could read no frame from: check that frames came out.
    const converted = await mp4VideoTrack(partial);
    if (!converted || !H264_ENTRIES.has(converted.entry) || converted.samples === 0) {
      throw Object.assign(new Error('no H.264 frames came out'), { stderr: '' });
    }
  } catch (error) {
    await rm(partial, { force: true });
    const detail = (error as { stderr?: string }).stderr?.trim().split('\n').pop() || (error as Error).message;
    throw new Error(`the ${codec} video could not be converted to H.264: ${detail}`, { cause: error });
  }
  await rename(path, options.originalPath);
  await rename(partial, path);
  return { codec, originalPath: options.originalPath };
}

/** The sample entry type (`avc1`, `hvc1`…) of the first video track of an MP4, or undefined when not an MP4. */
export async function mp4VideoSampleEntry(path: string): Promise<string | undefined> {
  return (await mp4VideoTrack(path))?.entry;
}

/**
 * The first video track of an MP4: its sample entry type and its number of samples (frames) in the `stsz` table
 * (0 in a fragmented MP4, whose samples live in fragments). Undefined when the file is not an MP4 with video.
 */
async function mp4VideoTrack(path: string): Promise<{ entry: string; samples: number } | undefined> {
  const file = await open(path, 'r');
  try {
    const moov = await readTopLevelBox(file, 'moov');
    if (!moov) return undefined;
    for (const trak of childBoxes(moov, 'trak')) {
      const mdia = childBoxes(trak, 'mdia')[0];
      if (!mdia) continue;
      // hdlr: version+flags (4), pre_defined (4), handler_type (4)
      if (childBoxes(mdia, 'hdlr')[0]?.subarray(8, 12).toString('latin1') !== 'vide') continue;
      const stbl = descend(mdia, ['minf', 'stbl']);
      const stsd = stbl && childBoxes(stbl, 'stsd')[0];
      const stsz = stbl && childBoxes(stbl, 'stsz')[0];
      // stsd: version+flags (4), entry_count (4), then the first entry's size (4) and type (4)
      if (!stsd || stsd.length < 16) continue;
      // stsz: version+flags (4), sample_size (4), sample_count (4)
      const samples = stsz && stsz.length >= 12 ? stsz.readUInt32BE(8) : 0;
      return { entry: stsd.subarray(12, 16).toString('latin1'), samples };
    }
    return undefined;
  } finally {
    await file.close();
  }
}

/** The payload of the first top-level box of `type`, found by seeking box to box (the file is never read whole). */
async function readTopLevelBox(file: FileHandle, type: string): Promise<Buffer | undefined> {
  const { size: fileSize } = await file.stat();
  const header = Buffer.alloc(16);
  let offset = 0;
  while (offset + 8 <= fileSize) {
    const { bytesRead } = await file.read(header, 0, 16, offset);
    if (bytesRead < 8) return undefined;
    const name = header.subarray(4, 8).toString('latin1');
    if (offset === 0 && name !== 'ftyp' && name !== 'moov' && name !== 'free') return undefined;
    let size = header.readUInt32BE(0);
    let headerSize = 8;
    if (size === 1) {
      if (bytesRead < 16) return undefined;
      size = Number(header.readBigUInt64BE(8));
      headerSize = 16;
    } else if (size === 0) size = fileSize - offset;
    if (size < headerSize) return undefined;
    if (name === type) {
      const length = size - headerSize;
      if (length > MAX_MOOV_BYTES || offset + size > fileSize) return undefined;
      const body = Buffer.alloc(length);
      await file.read(body, 0, length, offset + headerSize);
      return body;
    }
    offset += size;
  }
  return undefined;
}

/** The payloads of the direct children of a box payload with the given type. */
function childBoxes(payload: Buffer, type: string): Buffer[] {
  const found: Buffer[] = [];
  let offset = 0;
  while (offset + 8 <= payload.length) {
    let size = payload.readUInt32BE(offset);
    let headerSize = 8;
    if (size === 1 && offset + 16 <= payload.length) {
      size = Number(payload.readBigUInt64BE(offset + 8));
      headerSize = 16;
    } else if (size === 0) size = payload.length - offset;
    if (size < headerSize || offset + size > payload.length) break;
    if (payload.subarray(offset + 4, offset + 8).toString('latin1') === type) {
      found.push(payload.subarray(offset + headerSize, offset + size));
    }
    offset += size;
  }
  return found;
}

/** The payload at a path of first children (`['minf', 'stbl', 'stsd']`), or undefined when one is missing. */
function descend(box: Buffer, path: string[]): Buffer | undefined {
  let at: Buffer | undefined = box;
  for (const type of path) at = at && childBoxes(at, type)[0];
  return at;
}

/** `ffmpeg -i` with no output exits 1 but first names every stream: "Stream #0:0: Video: vp9 (Profile 0)…". */
async function ffmpegVideoCodec(ffmpegPath: string, path: string): Promise<string> {
  const stderr = await run(ffmpegPath, ['-hide_banner', '-i', path], { timeout: 30_000 }).then(
    (r) => r.stderr,
    (error: { stderr?: string }) => error.stderr ?? '',
  );
  return /Stream #\d+:\d+.*?: Video: (\w+)/.exec(stderr)?.[1] ?? 'unknown';
}
