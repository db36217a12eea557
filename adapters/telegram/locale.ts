/**
 * Every sentence the bot says, in English and Chinese. `pickLang` chooses by the user's Telegram `language_code`
 * (any `zh…` is Chinese, any `en…` English) and falls back to DEFAULT_LOCALE. Replies are plain text (no parse
 * mode), so prompts and reasons never need escaping.
 */
import type { AccountHealth, RecordedIncident, Task } from '../../src/core/index.js';
import { INCIDENT_EN, INCIDENT_ZH } from '../incident-wording.js';

export type Lang = 'en' | 'zh';

export function pickLang(languageCode: string | undefined, fallback: Lang): Lang {
  const code = languageCode?.toLowerCase() ?? '';
  if (code.startsWith('zh')) return 'zh';
  if (code.startsWith('en')) return 'en';
  return fallback;
}

const en = {
  alert: (i: RecordedIncident) =>
    [
      `${i.kind === 'recovered' ? '✅' : '⚠️'} ${i.provider} · ${i.subject}: ${INCIDENT_EN[i.kind]}${i.code ? ` (code ${i.code})` : ''}.`,
      `What happened: ${i.message}`,
      ...(i.action ? [`What to do: ${i.action}`] : []),
    ].join('\n'),
  start:
    'Hi! I turn your words and pictures into short videos.\n\n' +
    '• Send a photo with a caption: the caption describes the motion.\n' +
    '• Send /video <prompt> (or just text here) for a video from words alone.\n\n' +
    'See /help for everything else.',
  help:
    'How to use me:\n' +
    '• Photo + caption → image-to-video (a photo without caption: I ask for the prompt, reply to my question).\n' +
    '• /video <prompt> → text-to-video. In private chats plain text works too; in groups use /video or mention me.\n' +
    '• /mytasks — your recent videos\n' +
    '• /cancel <id> — cancel one of your videos; /retry <id> — run a failed one again\n' +
    '• Buttons under my reply: Cancel, Retry, and Again (same prompt and picture, a new video)\n' +
    'Videos usually take a few minutes; I edit my reply as they progress and send the video when it is ready.',
  progress: (t: Task) =>
    t.status === 'pending' && t.attempts === 0
      ? `🎬 Task ${t.id}: started, first check soon.`
      : `⏳ Task ${t.id}: checked ${t.attempts} of ${t.maxAttempts} times, not ready yet.`,
  finished: (id: string) => `✅ Task ${id}: done.`,
  failedStatus: (id: string) => `❌ Task ${id}: failed.`,
  cancelledStatus: (id: string) => `🚫 Task ${id}: cancelled.`,
  videoLink: (link: string, size: string) => `Your video is ready (${size}, too big to upload here): ${link}`,
  noVideoFile: (id: string) => `Task ${id} finished but its video file is missing; ask an admin to check it.`,
  upstreamLink: (id: string, link: string) =>
    `Your video is ready (task ${id}). This server could not keep a copy, so here is the provider's link; it may expire, so save the video soon: ${link}`,
  failed: (id: string, reason: string) =>
    `❌ Task ${id} failed: ${reason}.\nTo try again, send the same request once more.`,
  cancelled: (id: string) => `🚫 Task ${id} was cancelled.`,
  askPrompt: 'Nice picture! What should happen in the video? Reply to this message with a prompt.',
  albumNote: 'Albums: I made one video from the captioned photo; the other photos are not used.',
  videoUsage: 'Tell me what to show: /video <prompt>, e.g. /video a cat surfing at sunset',
  cancelUsage: 'Usage: /cancel <task id> (see /mytasks)',
  unknownCommand: 'I do not know that command. See /help.',
  noTasks: 'You have no videos yet. Send /video <prompt> or a photo with a caption.',
  yourTasks: 'Your recent videos:',
  cancelDone: (id: string) => `🚫 Task ${id} cancelled.`,
  retryDone: (id: string) => `🔁 Task ${id} queued again.`,
  tooBigForTelegram: (limit: string) => `That file is too big: Telegram lets bots download files up to ${limit}.`,
  tooBigImage: (limit: string) => `That image is too big: the limit is ${limit}.`,
  notImage: 'That file is not an image. Send a JPEG, PNG, WebP, GIF or BMP.',
  refused: (reason: string) => `Sorry, I cannot do that: ${reason}.`,
  notFound: (reason: string) => `Not found: ${reason}.`,
  busy: (reason: string) => `Not possible right now: ${reason}.`,
  upstream: 'The video service is having trouble right now. Please try again in a few minutes.',
  internal: 'Something went wrong on my side. Please try again later.',
  adminOnly: 'Sorry, that command is for the bot’s administrators.',
  adminUsage: (cmd: string) => `Usage: /${cmd} <task id>`,
  tasksUsage: 'Usage: /tasks [pending|processing|completed|failed|cancelled] [page]',
  noneFound: 'No tasks found.',
  page: (page: number, pages: number, total: number) => `Page ${page}/${pages} · ${total} task(s)`,
  stats: (byStatus: Record<string, number>, provider: string) =>
    `Provider: ${provider}\n${Object.entries(byStatus)
      .map(([s, n]) => `${s}: ${n}`)
      .join('\n')}`,
  accountsTitle: 'Upstream sessions:',
  accountLine: (a: AccountHealth) =>
    `• ${a.label}: ${a.state}${a.since ? ` since ${a.since}` : ''}${a.until ? `, until ${a.until}` : ''}${a.lastCode ? ` (last code ${a.lastCode})` : ''}`,
};

export type Messages = typeof en;

const zh: Messages = {
  alert: (i) =>
    [
      `${i.kind === 'recovered' ? '✅' : '⚠️'} ${i.provider} · ${i.subject}：${INCIDENT_ZH[i.kind]}${i.code ? `（代码 ${i.code}）` : ''}。`,
      `发生了什么：${i.message}`,
      ...(i.action ? [`怎么办：${i.action}`] : []),
    ].join('\n'),
  start:
    '你好！我可以把文字和图片变成短视频。\n\n' +
    '• 发送带说明文字的图片：说明文字描述画面怎么动。\n' +
    '• 发送 /video <提示词>（私聊中直接发文字也可以）：纯文字生成视频。\n\n' +
    '更多用法见 /help。',
  help:
    '使用方法：\n' +
    '• 图片 + 说明文字 → 图生视频（没有说明文字时我会询问提示词，回复我的问题即可）。\n' +
    '• /video <提示词> → 文生视频。私聊中直接发文字也可以；群组中请用 /video 或 @我。\n' +
    '• /mytasks — 你最近的视频\n' +
    '• /cancel <任务ID> — 取消你的视频；/retry <任务ID> — 重新生成失败的视频\n' +
    '• 回复下方的按钮：取消、重试、再来一个（同样的提示词和图片，生成新视频）\n' +
    '视频通常需要几分钟；我会随进度更新回复，完成后发送视频。',
  progress: (t) =>
    t.status === 'pending' && t.attempts === 0
      ? `🎬 任务 ${t.id}：已开始，稍后第一次检查。`
      : `⏳ 任务 ${t.id}：已检查 ${t.attempts}/${t.maxAttempts} 次，尚未完成。`,
  finished: (id) => `✅ 任务 ${id}：已完成。`,
  failedStatus: (id) => `❌ 任务 ${id}：失败。`,
  cancelledStatus: (id) => `🚫 任务 ${id}：已取消。`,
  videoLink: (link, size) => `视频已生成（${size}，太大无法在此上传）：${link}`,
  noVideoFile: (id) => `任务 ${id} 已完成，但视频文件不见了；请联系管理员。`,
  upstreamLink: (id, link) =>
    `视频已生成（任务 ${id}）。本服务未能保存副本，以下是提供方的链接，可能会过期，请尽快保存：${link}`,
  failed: (id, reason) => `❌ 任务 ${id} 失败：${reason}。\n如需重试，请再次发送同样的请求。`,
  cancelled: (id) => `🚫 任务 ${id} 已取消。`,
  askPrompt: '图片收到了！视频里应该发生什么？请回复这条消息并写下提示词。',
  albumNote: '相册：我只用带说明文字的那张图片生成了视频，其余图片未使用。',
  videoUsage: '请告诉我要生成什么：/video <提示词>，例如 /video 一只猫在日落时冲浪',
  cancelUsage: '用法：/cancel <任务ID>（见 /mytasks）',
  unknownCommand: '我不认识这个命令。请看 /help。',
  noTasks: '你还没有视频。发送 /video <提示词> 或带说明文字的图片试试。',
  yourTasks: '你最近的视频：',
  cancelDone: (id) => `🚫 任务 ${id} 已取消。`,
  retryDone: (id) => `🔁 任务 ${id} 已重新排队。`,
  tooBigForTelegram: (limit) => `文件太大：Telegram 只允许机器人下载不超过 ${limit} 的文件。`,
  tooBigImage: (limit) => `图片太大：上限为 ${limit}。`,
  notImage: '这不是图片。请发送 JPEG、PNG、WebP、GIF 或 BMP。',
  refused: (reason) => `抱歉，无法处理：${reason}。`,
  notFound: (reason) => `未找到：${reason}。`,
  busy: (reason) => `暂时无法操作：${reason}。`,
  upstream: '视频服务暂时出了问题，请过几分钟再试。',
  internal: '我这边出了点问题，请稍后再试。',
  adminOnly: '抱歉，该命令仅限机器人管理员使用。',
  adminUsage: (cmd) => `用法：/${cmd} <任务ID>`,
  tasksUsage: '用法：/tasks [pending|processing|completed|failed|cancelled] [页码]',
  noneFound: '没有找到任务。',
  page: (page, pages, total) => `第 ${page}/${pages} 页 · 共 ${total} 个任务`,
  stats: (byStatus, provider) =>
    `服务提供方：${provider}\n${Object.entries(byStatus)
      .map(([s, n]) => `${s}: ${n}`)
      .join('\n')}`,
  accountsTitle: '上游会话：',
  accountLine: (a) =>
    `• ${a.label}：${a.state}${a.since ? `，自 ${a.since}` : ''}${a.until ? `，至 ${a.until}` : ''}${a.lastCode ? `（最近代码 ${a.lastCode}）` : ''}`,
};

export const MESSAGES: Record<Lang, Messages> = { en, zh };
