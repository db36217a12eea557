/**
 * `/video prompt:<text> [image:<attachment>] [ratio] [duration] [resolution]` (the options the provider honours,
 * added at registration: video-options.ts): acknowledges at once (public, so the channel sees the progress),
 * keeps the reply message for later edits, downloads the image, submits the task and answers with its id, queue
 * position and the usual waiting time. Everything needed to answer later is stored in the task's origin.
 */
import { MessageFlags, SlashCommandBuilder } from 'discord.js';
import { isFinal } from '../../../src/core/index.js';
import { downloadAttachment, refuseAttachment } from '../attachment.js';
import { langOf, say } from '../messages.js';
import { DEFAULT_SIZE_LIMIT, type ReplyRef, TOKEN_LIFETIME_MS } from '../reply-ref.js';
import type { DiscordDeps, SlashCommand } from '../types.js';
import { cancelRow } from '../views.js';
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
      await interaction.deferReply();
      const replyMessage = await interaction.fetchReply();
      const bytes = attachment ? await downloadAttachment(attachment, deps.config) : undefined;
      const reply: ReplyRef = {
        appId: interaction.applicationId,
        token: interaction.token,
        tokenExpiresAt: interaction.createdTimestamp + TOKEN_LIFETIME_MS,
        channelId: interaction.channelId,
        messageId: replyMessage.id,
        sizeLimit: interaction.attachmentSizeLimit || DEFAULT_SIZE_LIMIT,
        lang,
      };
      const task = await deps.service.submit({
        prompt: interaction.options.getString('prompt', true),
        options: videoOptionsOf(interaction),
        ...(bytes && { image: { bytes, fileName: attachment?.name } }),
        origin: {
          platform: 'discord',
          userId: interaction.user.id,
          chatId: interaction.channelId,
          locale: lang,
          reply: { ...reply },
        },
        requestKey: `discord:${interaction.id}`,
      });
      // A task that ended during submit (refused upstream) is answered by the delivery, which edits this reply.
      if (isFinal(task.status)) return;
      const { firstS, lastS } = deps.service.estimateWindowS();
      await interaction.editReply({
        content: t.queued(task.id, deps.service.queuePosition(task), firstS, lastS),
        components: [cancelRow(task, t)],
      });
    },
  };
}
