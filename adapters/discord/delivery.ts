/**
 * Tells Discord users about their tasks after the `/video` reply: progress edits of that reply (with the time
 * left), new places in line while waiting, and the final result (the outbox's delivery function, so it also runs
 * at start-up for tasks that finished while down); the status message then keeps Retry and Again, or Again.
 *
 * Where it writes: while the interaction token lives, through the interaction webhook; after that (or once
 * Discord answers 401/50027) through the channel with the bot token. A refused token is recorded on the task
 * (`tokenExpiresAt: 0`) and never tried again. The result goes to the channel mentioning the user, with the MP4
 * uploaded when it fits the stored upload limit, else the link (the provider's, when the video could not be copied
 * here); a channel that refuses the bot (403) means a DM; when the DM is refused too, the link stays on the task
 * (`origin.reply.undeliveredLink`) and `DeliveryRefused` tells the outbox to record why and stop. Other failures
 * (5xx, network) throw, so the outbox tries again later. Admin alerts of provider incidents go by DM to each
 * DISCORD_ADMIN_IDS user.
 */
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { type RawFile, type REST, RESTJSONErrorCodes, Routes } from 'discord.js';
import { type AdminAlert, DeliveryRefused, isFinal, type Task, type WaitInfo } from '../../src/core/index.js';
import { control } from './control-messages.js';
import { apiCode, apiStatus, safeError } from './error-reply.js';
import { type Messages, say } from './messages.js';
import { type ReplyRef, readReplyRef, tokenAlive } from './reply-ref.js';
import type { DiscordDeps } from './types.js';
import { cancelRow, finalRow, retryRow } from './views.js';

interface Body {
  content: string;
  components?: unknown[];
  allowed_mentions?: { users: string[] };
  attachments?: { id: number; filename: string }[];
  message_reference?: { message_id: string; fail_if_not_exists: false };
}

const REFUSED = new Set<number>([
  RESTJSONErrorCodes.MissingPermissions,
  RESTJSONErrorCodes.MissingAccess,
  RESTJSONErrorCodes.UnknownChannel,
  RESTJSONErrorCodes.CannotSendMessagesToThisUser,
  RESTJSONErrorCodes.UnknownUser,
]);

/** The bot may not write there: go elsewhere rather than retry. */
function refused(error: unknown): boolean {
  const code = apiCode(error);
  return (code !== undefined && REFUSED.has(code)) || apiStatus(error) === 403;
}

function deadToken(error: unknown): boolean {
  const code = apiCode(error);
  return (
    code === RESTJSONErrorCodes.InvalidWebhookToken ||
    code === RESTJSONErrorCodes.UnknownWebhook ||
    apiStatus(error) === 401
  );
}

function tooLarge(error: unknown): boolean {
  return apiCode(error) === RESTJSONErrorCodes.RequestEntityTooLarge || apiStatus(error) === 413;
}

export class DiscordDelivery {
  readonly #rest: REST;
  readonly #deps: DiscordDeps;
  /** Per task, the tail of its Discord calls: edits and the result run one after another, never at once. */
  readonly #lanes = new Map<string, Promise<unknown>>();

  constructor(rest: REST, deps: DiscordDeps) {
    this.#rest = rest;
    this.#deps = deps;
  }

  /**
   * Runs a task's Discord calls in order, each with the task as stored when its turn comes, so a token refused by
   * one call is never tried by the next.
   */
  #inLane(taskId: string, work: (task: Task) => Promise<void>, snapshot?: Task): Promise<void> {
    const run = (this.#lanes.get(taskId) ?? Promise.resolve())
      .catch(() => undefined)
      .then(async () => {
        const fresh = await this.#deps.service.get(taskId);
        return work(snapshot ? { ...snapshot, origin: fresh.origin } : fresh);
      });
    this.#lanes.set(taskId, run);
    return run.finally(() => {
      if (this.#lanes.get(taskId) === run) this.#lanes.delete(taskId);
    });
  }

  /** Edits the `/video` reply with the task's progress; failures are logged, never retried. */
  readonly onProgress = (event: Task): void => {
    if (event.origin.platform !== 'discord') return;
    this.#inLane(event.id, async (task) => {
      const ref = readReplyRef(task);
      if (!ref) return;
      const t = say(ref.lang);
      const timeLeft = control(ref.lang).timeLeft((await this.#deps.service.waitInfo(task)).etaMs);
      const body = {
        content: `${t.progress(task.id, task.attempts, task.maxAttempts)} ${timeLeft}`,
        components: [cancelRow(task, t).toJSON()],
      };
      await this.#editStatus(task, ref, body);
    }).catch((error: unknown) =>
      this.#deps.log.debug({ taskId: event.id, err: safeError(error) }, 'could not edit the Discord progress message'),
    );
  };

  /** Edits a waiting task's `/video` reply with its new place in line (the live queue, see QueueWatch). */
  readonly onQueueMove = (event: Task, wait: WaitInfo): void => {
    this.#inLane(event.id, async (task) => {
      const ref = readReplyRef(task);
      if (!ref || task.upstream || isFinal(task.status)) return;
      const body = {
        content: control(ref.lang).waiting(task.id, wait),
        components: [cancelRow(task, say(ref.lang)).toJSON()],
      };
      await this.#editStatus(task, ref, body);
    }).catch((error: unknown) =>
      this.#deps.log.debug({ taskId: event.id, err: safeError(error) }, 'could not edit the Discord queue position'),
    );
  };

  /**
   * The outbox's delivery function for Discord tasks. It tells the outcome the outbox checked (`event`), with the
   * reply information as stored now (an earlier call may have found the token dead).
   */
  readonly deliver = (event: Task): Promise<void> => this.#inLane(event.id, (task) => this.#deliverNow(task), event);

  /** The outbox's alert function: a DM with the incident to one admin. */
  readonly deliverAlert = async ({ recipient, incident }: AdminAlert): Promise<void> => {
    const content = say(this.#deps.config.DEFAULT_LOCALE).alert(incident);
    try {
      const dm = (await this.#rest.post(Routes.userChannels(), { body: { recipient_id: recipient } })) as {
        id: string;
      };
      await this.#rest.post(Routes.channelMessages(dm.id), { body: { content, allowed_mentions: { parse: [] } } });
    } catch (error) {
      if (!refused(error)) throw error;
      throw new DeliveryRefused(`Discord refused a DM to admin ${recipient}: ${safeError(error).message}`);
    }
  };

  async #deliverNow(task: Task): Promise<void> {
    const ref = readReplyRef(task);
    if (!ref) throw new DeliveryRefused('the task has no Discord reply information; there is nowhere to answer');
    const t = say(ref.lang);
    const status =
      task.status === 'completed'
        ? t.statusDone(task.id)
        : task.status === 'failed'
          ? t.statusFailed(task.id)
          : t.cancelled(task.id);
    const buttons = [finalRow(task, t, ref.lang).toJSON()];
    await this.#editStatus(task, ref, { content: status, components: buttons }).catch((error: unknown) =>
      this.#deps.log.debug({ taskId: task.id, err: safeError(error) }, 'could not edit the Discord status message'),
    );
    if (task.status === 'cancelled') return;
    if (task.status === 'failed') {
      const mention = `<@${task.origin.userId}>`;
      const body = {
        content: t.failed(mention, task.id, task.errorReason ? t.reason(task.errorReason) : (task.error ?? 'unknown')),
        components: [retryRow(task, t, ref.lang).toJSON()],
      };
      await this.#sendResult(task, ref, body, [], null);
      return;
    }
    await this.#sendVideo(task, ref, t);
  }

  async #sendVideo(task: Task, ref: ReplyRef, t: Messages): Promise<void> {
    const mention = `<@${task.origin.userId}>`;
    const upstream = task.videoUrls[0];
    if (!task.videoFile && upstream) {
      await this.#sendResult(task, ref, { content: t.doneUpstreamLink(mention, task.id, upstream) }, [], upstream);
      return;
    }
    const link = task.videoFile ? `${this.#deps.config.PUBLIC_BASE_URL}/videos/${task.videoFile}` : null;
    const path = task.videoFile ? join(this.#deps.videosDir, task.videoFile) : null;
    const size = path
      ? await stat(path).then(
          (s) => s.size,
          () => null,
        )
      : null;
    const linkBody = { content: t.doneLink(mention, task.id, link ?? '-') };
    if (!path || size === null || size > ref.sizeLimit) {
      await this.#sendResult(task, ref, linkBody, [], link);
      return;
    }
    const name = `${task.id}.mp4`;
    const files: RawFile[] = [{ name, data: await readFile(path), contentType: 'video/mp4' }];
    const body = { content: t.done(mention, task.id), attachments: [{ id: 0, filename: name }] };
    try {
      await this.#sendResult(task, ref, body, files, link);
    } catch (error) {
      if (!tooLarge(error)) throw error;
      await this.#sendResult(task, ref, linkBody, [], link);
    }
  }

  /** Webhook follow-up while the token lives, else the channel, else a DM, else the link stays on the task. */
  async #sendResult(task: Task, ref: ReplyRef, body: Body, files: RawFile[], link: string | null): Promise<void> {
    const userId = task.origin.userId;
    const mentionBody = { ...body, allowed_mentions: { users: [userId] } };
    if (tokenAlive(ref)) {
      try {
        await this.#rest.post(Routes.webhook(ref.appId, ref.token), { body: mentionBody, files, auth: false });
        return;
      } catch (error) {
        if (!deadToken(error)) throw error;
        await this.#tokenRefused(task, ref);
      }
    }
    const reference = ref.messageId
      ? { message_reference: { message_id: ref.messageId, fail_if_not_exists: false as const } }
      : {};
    try {
      await this.#rest.post(Routes.channelMessages(ref.channelId), { body: { ...mentionBody, ...reference }, files });
      return;
    } catch (error) {
      if (!refused(error)) throw error;
      this.#deps.log.info({ taskId: task.id, err: safeError(error) }, 'the channel refused the result; sending a DM');
    }
    try {
      const dm = (await this.#rest.post(Routes.userChannels(), { body: { recipient_id: userId } })) as { id: string };
      await this.#rest.post(Routes.channelMessages(dm.id), { body, files });
    } catch (error) {
      if (!refused(error)) throw error;
      await this.#deps.service.updateOrigin(task.id, { undeliveredLink: link });
      this.#deps.log.warn(
        { taskId: task.id, link, err: safeError(error) },
        'neither the channel nor a DM accepted the result; the link is kept on the task',
      );
      throw new DeliveryRefused(`neither the channel nor a DM accepted the result: ${safeError(error).message}`);
    }
  }

  async #editStatus(task: Task, ref: ReplyRef, body: Body): Promise<void> {
    if (tokenAlive(ref)) {
      try {
        await this.#rest.patch(Routes.webhookMessage(ref.appId, ref.token), { body, auth: false });
        return;
      } catch (error) {
        if (!deadToken(error)) throw error;
        await this.#tokenRefused(task, ref);
      }
    }
    if (ref.messageId) await this.#rest.patch(Routes.channelMessage(ref.channelId, ref.messageId), { body });
  }

  /** Discord refused the interaction token: never use it again — in this delivery, later, or after a restart. */
  async #tokenRefused(task: Task, ref: ReplyRef): Promise<void> {
    ref.tokenExpiresAt = 0;
    await this.#deps.service.updateOrigin(task.id, { tokenExpiresAt: 0 });
    this.#deps.log.info({ taskId: task.id }, 'the interaction token is no longer valid; using the channel');
  }
}
