/**
 * The `ark` provider: Seedance video generation through the official Volcengine Ark (BytePlus ModelArk) tasks
 * API. `start` creates an Ark task, `poll` reads it, `cancel` deletes it (Ark cancels only queued tasks), and
 * `recover` adopts tasks created by a start the previous process did not live to record.
 *
 * Images go to Ark inline as `data:image/...;base64,` URIs, so Ark never needs to reach this service. The bytes
 * wait in `workDir` between `uploadImage` and `start` (a ref holding megabytes of base64 would be copied into
 * every task row); the file is removed once Ark has accepted the task.
 */
import { randomUUID } from 'node:crypto';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Dispatcher } from 'undici';
import type { Config } from '../../config.js';
import { UpstreamError } from '../../core/errors.js';
import { DURATIONS_S, RATIOS, RESOLUTIONS, type VideoCapabilities } from '../../core/options.js';
import { proxyAgent } from '../../proxy.js';
import type {
  ImageInput,
  ImageRef,
  InterruptedStart,
  PollResult,
  StartRequest,
  UpstreamRef,
  VideoProvider,
} from '../provider.js';
import { ArkCancelRefused, ArkClient, type ArkContent, type ArkCreateBody } from './client.js';
import { describeTaskFailure } from './errors.js';
import { recoverLostTasks } from './recover.js';

export interface ArkProviderOptions {
  apiKey: string;
  /** Where Ark requests go through: the configured proxy (src/proxy.ts); absent → directly. */
  dispatcher?: Dispatcher | undefined;
  /** @defaultValue `https://ark.cn-beijing.volces.com/api/v3` (ARK_BASE_URL) */
  baseUrl: string;
  /** Model (or endpoint `ep-…`) id for text-to-video, and for image-to-video unless `modelI2v` is set. */
  model: string;
  modelI2v?: string;
  /** Defaults sent with every task: ARK_RATIO, ARK_DURATION_S, ARK_RESOLUTION. */
  ratio: string;
  durationS: number;
  resolution: string;
  /** Where Ark should report finished tasks (`${PUBLIC_BASE_URL}/api/ark/callback`); absent → polling only. */
  callbackUrl?: string;
  /** Started, unfinished Ark tasks at once (ARK_MAX_CONCURRENT). */
  maxConcurrent: number;
  /** ARK_FIRST_CHECK_S, ARK_POLL_INTERVAL_S, ARK_MAX_ATTEMPTS. */
  firstCheckS: number;
  pollIntervalS: number;
  maxAttempts: number;
  /** Where uploaded images wait for `start` (DATA_DIR/ark). */
  workDir: string;
}

/** The image as the ref stores it: a file in `workDir` and its type, turned into a data URI at start. */
interface ArkImageRef extends ImageRef {
  path: string;
  mime: string;
}

/**
 * What a task may ask of Ark: Seedance takes every ratio, 5 or 10 s (the lengths all Seedance models take), and
 * 480p, 720p or 1080p. A task that asks for none gets ARK_RATIO, ARK_DURATION_S and ARK_RESOLUTION.
 */
export const ARK_CAPABILITIES: VideoCapabilities = {
  ratios: RATIOS,
  durationsS: DURATIONS_S,
  resolutions: RESOLUTIONS,
};

/** The provider's options from the configuration: the ARK_* variables, PUBLIC_BASE_URL and DATA_DIR. */
export function arkOptionsFromConfig(config: Config): ArkProviderOptions {
  if (!config.ARK_API_KEY) throw new Error('ARK_API_KEY is required for PROVIDER=ark');
  return {
    apiKey: config.ARK_API_KEY,
    baseUrl: config.ARK_BASE_URL,
    model: config.ARK_MODEL,
    modelI2v: config.ARK_MODEL_I2V,
    ratio: config.ARK_RATIO,
    durationS: config.ARK_DURATION_S,
    resolution: config.ARK_RESOLUTION,
    callbackUrl: config.ARK_CALLBACK ? `${config.PUBLIC_BASE_URL}/api/ark/callback` : undefined,
    maxConcurrent: config.ARK_MAX_CONCURRENT,
    firstCheckS: config.ARK_FIRST_CHECK_S,
    pollIntervalS: config.ARK_POLL_INTERVAL_S,
    maxAttempts: config.ARK_MAX_ATTEMPTS,
    workDir: join(config.DATA_DIR, 'ark'),
    dispatcher: proxyAgent(config),
  };
}

export function createArkProvider(options: ArkProviderOptions): VideoProvider {
  const client = new ArkClient({
    apiKey: options.apiKey,
    baseUrl: options.baseUrl,
    ...(options.dispatcher && { dispatcher: options.dispatcher }),
  });
  const modelOf = (kind: InterruptedStart['kind']) =>
    kind === 'i2v' ? (options.modelI2v ?? options.model) : options.model;

  async function imageContent(image: ImageRef): Promise<ArkContent> {
    const { path, mime } = image as ArkImageRef;
    const bytes = await readFile(path).catch(() => {
      throw new UpstreamError('the image of this task is no longer kept; submit it again', false);
    });
    return { type: 'image_url', image_url: { url: `data:${mime};base64,${bytes.toString('base64')}` } };
  }

  return {
    name: 'ark',
    timing: {
      firstAttemptDelayS: options.firstCheckS,
      retryIntervalS: options.pollIntervalS,
      maxAttempts: options.maxAttempts,
    },
    maxRunning: options.maxConcurrent,
    capabilities: ARK_CAPABILITIES,

    async uploadImage(image: ImageInput): Promise<ImageRef> {
      const dir = join(options.workDir, 'images');
      await mkdir(dir, { recursive: true });
      const path = join(dir, randomUUID());
      await writeFile(path, image.bytes);
      return { path, mime: image.mime } satisfies ArkImageRef;
    },

    async start(req: StartRequest): Promise<UpstreamRef> {
      const content: ArkContent[] = [{ type: 'text', text: req.prompt }];
      if (req.image) content.push(await imageContent(req.image));
      // The current Ark docs take generation options as top-level fields (checked strictly by Ark); the older
      // `--ratio 16:9 --duration 5` flags appended to the prompt are still accepted but not validated.
      const body: ArkCreateBody = {
        model: modelOf(req.image ? 'i2v' : 't2v'),
        content,
        ratio: req.options?.ratio ?? options.ratio,
        duration: req.options?.durationS ?? options.durationS,
        resolution: req.options?.resolution ?? options.resolution,
        ...(options.callbackUrl && { callback_url: options.callbackUrl }),
      };
      const id = await client.create(body);
      if (req.image) await rm((req.image as ArkImageRef).path, { force: true });
      return { id };
    },

    async poll(ref: UpstreamRef): Promise<PollResult> {
      const task = await client.get(ref.id);
      switch (task.status) {
        case 'queued':
          return { state: 'running', progress: 0 };
        case 'running':
          return { state: 'running' };
        case 'succeeded': {
          const url = task.content?.video_url;
          if (!url)
            return {
              state: 'failed',
              reason: 'Ark reported success but gave no video link',
              retryable: false,
              ended: true,
            };
          return { state: 'succeeded', videoUrls: [url] };
        }
        case 'cancelled':
          return { state: 'failed', reason: 'the task was cancelled on Ark', retryable: false, ended: true };
        case 'failed':
          return { state: 'failed', reason: describeTaskFailure(task.error), retryable: false, ended: true };
        default:
          throw new UpstreamError(`Ark reported an unknown task status "${String(task.status)}"`, true);
      }
    },

    async cancel(ref: UpstreamRef): Promise<void> {
      try {
        await client.cancel(ref.id);
      } catch (error) {
        if (!(error instanceof ArkCancelRefused)) throw error;
        throw new UpstreamError(
          'Ark cancels only tasks still waiting in its queue; this one is already being generated and will finish',
          false,
          { cause: error },
        );
      }
    },

    recover(interrupted, isKnown) {
      return recoverLostTasks(client, modelOf, interrupted, isKnown);
    },

    async close(): Promise<void> {
      await client.close();
    },
  };
}
