/**
 * `/video prompt:<text> [image:<attachment>] [ratio] [duration] [resolution]` (the options the provider honours,
 * added at registration: video-options.ts): answers publicly (so the channel sees the progress) with the task id,
 * its place in line, the estimated wait and a Cancel button. Text to video is stored first (its upstream start left
 * to the retry loop) and answered directly (no defer: the task id shows with the acknowledgement, issue 15); with an
 * image, which must be downloaded first, or when the bot is behind (a burst backlog), the interaction is deferred and
 * the answer edited in. Everything needed to answer later (and the reply message's id) is stored in the task's
 * origin.
 */
import { type ChatInputCommandInteraction, MessageFlags, SlashCommandBuilder } from 'discord.js';
import { isFinal, type Task } from '../../../src/core/index.js';
import { downloadAttachment, refuseAttachment } from '../attachment.js';
import { control } from '../control-messages.js';
import { type Lang, langOf, say } from '../messages.js';
import { DEFAULT_SIZE_LIMIT, type ReplyRef, TOKEN_LIFETIME_MS } from '../reply-ref.js';
import type { DiscordDeps, SlashCommand } from '../types.js';
import { cancelRow, finalRow } from '../views.js';
import { videoOptionsOf } from './video-options.js';

export const data = new SlashCommandBuilder()
  .setName('video')
  .setDescription('Generate a short video from a prompt, optionally starting from an image')
  .setDescriptionLocalizations({
    'zh-CN': '根据提示词（可附一张图片）生成短视频',
    'zh-TW': '根據提示詞（可附一張圖片）生成短影片',
  })
  .addStringOption((o) =>
    o
      .setName('prompt')
      .setDescription('What the video should show')
      .setDescriptionLocalizations({ 'zh-CN': '视频内容描述', 'zh-TW': '影片內容描述' })
      .setRequired(true)
      .setMaxLength(2000),
  )
  .addAttachmentOption((o) =>
    o
      .setName('image')
      .setDescription('A picture to animate (JPEG, PNG, WebP, GIF or BMP)')
      .setDescriptionLocalizations({ 'zh-CN': '作为首帧的图片', 'zh-TW': '作為首幀的圖片' }),
  );

/** An interaction older than this when its handler starts is acknowledged before anything else. */
export const BEHIND_MS = 1_000;

export function videoCommand(deps: DiscordDeps): SlashCommand {
  return {
    data,
    async execute(interaction) {
      const lang = langOf(interaction.locale, deps.config.DEFAULT_LOCALE);
      const t = say(lang);
      const attachment = interaction.options.getAttachment('image');
      const refusal = attachment && refuseAttachment(attachment, deps.config.MAX_IMAGE_BYTES, t);
      if (refusal) {
        await interaction.reply({ content: refusal, flags: MessageFlags.Ephemeral });
        return;
      }
      const reply: ReplyRef = {
        appId: interaction.applicationId,
        token: interaction.token,
        tokenExpiresAt: interaction.createdTimestamp + TOKEN_LIFETIME_MS,
        channelId: interaction.channelId,
        messageId: null,
        sizeLimit: interaction.attachmentSizeLimit || DEFAULT_SIZE_LIMIT,
        lang,
      };
      const submit = (bytes?: Buffer, messageId: string | null = null) =>
        deps.service.submit({
          prompt: interaction.options.getString('prompt', true),
          options: videoOptionsOf(interaction),
          ...(bytes && { image: { bytes, fileName: attachment?.name } }),
          origin: {
            platform: 'discord',
            userId: interaction.user.id,
            chatId: interaction.channelId,
            locale: lang,
            reply: { ...reply, messageId },
          },
          requestKey: `discord:${interaction.id}`,
          // Without an image the answer waits only for the task to be stored, not for its upstream start.
          startInBackground: !bytes,
        });
      // Acknowledge at once when the image must be downloaded first (that may take longer than Discord waits), or
      // when this interaction reached us late (a burst backlog): storing the task first would eat into the 3 s.
      if (attachment || Date.now() - interaction.createdTimestamp > BEHIND_MS) {
        await interaction.deferReply();
        const replyMessage = await interaction.fetchReply();
        const bytes = attachment ? await downloadAttachment(attachment, deps.config) : undefined;
        const task = await submit(bytes, replyMessage.id);
        await answerDeferred(deps, interaction, task, lang);
        return;
      }
      // Text to video: answer with the task itself, so the task id shows with the acknowledgement (a follow-up edit
      // queues behind discord.js's global REST limit under a burst; the interaction callback does not). The submit
      // only stores the task (the retry loop starts it at once), so the answer never waits for the upstream.
      const task = await submit();
      const { content, components, shownAhead } = await statusOf(deps, task, lang);
      const response = await interaction.reply({ content, components, withResponse: true });
      const messageId = response.interaction.responseMessageId ?? response.resource?.message?.id ?? null;
      await deps.service.updateOrigin(task.id, { messageId, ...(shownAhead !== undefined && { shownAhead }) });
    },
  };
}

/** The `/video` reply for a task: accepted with its place and wait and Cancel, or (ended already) how it ended. */
async function statusOf(deps: DiscordDeps, task: Task, lang: Lang) {
  const t = say(lang);
  if (isFinal(task.status)) {
    // Refused upstream during the submit: the outbox's delivery tells why and edits this reply.
    const content = task.status === 'failed' ? t.statusFailed(task.id) : t.cancelled(task.id);
    return { content, components: [finalRow(task, t, lang)], shownAhead: undefined };
  }
  const wait = await deps.service.waitInfo(task);
  return { content: control(lang).accepted(task.id, wait), components: [cancelRow(task, t)], shownAhead: wait.ahead };
}

async function answerDeferred(deps: DiscordDeps, interaction: ChatInputCommandInteraction, task: Task, lang: Lang) {
  // A task that ended during submit (refused upstream) is answered by the delivery, which edits this reply.
  if (isFinal(task.status)) return;
  const { content, components, shownAhead } = await statusOf(deps, task, lang);
  await interaction.editReply({ content, components });
  if (shownAhead !== undefined) await deps.service.updateOrigin(task.id, { shownAhead });
}
