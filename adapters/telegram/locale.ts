/**
 * Every sentence the bot says, in English and Chinese. `pickLang` chooses by the user's Telegram `language_code`
 * (any `zh…` is Chinese, any `en…` English) and falls back to DEFAULT_LOCALE. Replies are plain text (no parse
 * mode), so prompts and reasons never need escaping.
 */
import type {
  AccountHealth,
  OptionName,
  OptionRefused,
  Reason,
  RecordedIncident,
  Task,
  UserQuota,
  VideoCapabilities,
} from '../../src/core/index.js';
import { INCIDENT_EN, INCIDENT_ZH } from '../incident-wording.js';
import { reasonText } from '../reason-wording.js';

export type Lang = 'en' | 'zh';

export function pickLang(languageCode: string | undefined, fallback: Lang): Lang {
  const code = languageCode?.toLowerCase() ?? '';
  if (code.startsWith('zh')) return 'zh';
  if (code.startsWith('en')) return 'en';
  return fallback;
}

/** The flag that sets each option, for messages that tell how to fix one. */
const FLAG_OF: Record<OptionName, string> = { ratio: '--ratio', duration: '--duration', resolution: '--resolution' };
const listed = (e: OptionRefused) =>
  (e.option === 'duration' ? e.supported.map((s) => `${s}`) : e.supported).join(', ');

/** The flags this provider takes, one line each (none when it takes no option). */
function flagLines(caps: VideoCapabilities, words: { ratio: string; duration: string; resolution: string }): string[] {
  return [
    caps.ratios.length ? `--ratio ${caps.ratios.join('|')} (--ar) — ${words.ratio}` : undefined,
    caps.durationsS.length ? `--duration ${caps.durationsS.join('|')} — ${words.duration}` : undefined,
    caps.resolutions.length ? `--resolution ${caps.resolutions.join('|')} — ${words.resolution}` : undefined,
  ].filter((line): line is string => line !== undefined);
}

const OPTION_EN: Record<OptionName, string> = { ratio: 'aspect ratio', duration: 'duration', resolution: 'resolution' };
const OPTION_ZH: Record<OptionName, string> = { ratio: '画面比例', duration: '时长', resolution: '分辨率' };

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
  reason: (r: Reason) => reasonText(r, 'en'),
  quotaUsage:
    'Usage: /quota <user id> — show; /quota <user id> <active> <daily> — set (0 stops them); /quota <user id> reset — forget today’s videos; /quota <user id> default — back to the defaults. Or reply to one of their messages with /quota and leave out the id.',
  quotaShow: (userId: string, q: UserQuota) =>
    `User ${userId}: at most ${q.maxActive} at once (${q.active} now), ${q.dailyLimit} in 24 hours (${q.usedToday} used)${q.custom ? '' : ' — the defaults'}.`,
  quotaReset: (userId: string, q: UserQuota) =>
    `User ${userId}: today’s count is reset; they may make ${q.dailyLimit} more videos in the next 24 hours.`,
  notAllowed: (chatId: number) =>
    `Sorry, this bot is private: it only works in the chats its owner has allowed. If you know the owner, ask them to add this chat (id ${chatId}).`,
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
  optionRefused: (e: OptionRefused) =>
    e.supported.length === 0
      ? `Sorry, the video service here cannot choose the ${OPTION_EN[e.option]}: leave out ${FLAG_OF[e.option]}.`
      : `Sorry, ${e.reason === 'invalid' ? `"${e.value}" is not a valid ${OPTION_EN[e.option]}` : `the video service here cannot make ${OPTION_EN[e.option]} ${e.value}`}. Use ${FLAG_OF[e.option]} with one of: ${listed(e)}${e.option === 'duration' ? ' (seconds)' : ''}.`,
  flagWithoutValue: (flag: string) =>
    `--${flag} needs a value right after it, e.g. --ratio 9:16 or --duration 10. Nothing was started.`,
  optionsHelp: (caps: VideoCapabilities) => {
    const lines = flagLines(caps, { ratio: 'aspect ratio', duration: 'seconds', resolution: 'picture size' });
    return lines.length
      ? [
          'Options: add them to the prompt or caption, e.g. /video a cat surfing --ratio 9:16 --duration 10',
          ...lines,
        ].join('\n')
      : '';
  },
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
  reason: (r) => reasonText(r, 'zh'),
  quotaUsage:
    '用法：/quota <用户ID> — 查看；/quota <用户ID> <同时> <每日> — 设置（0 表示禁止）；/quota <用户ID> reset — 清零今天的次数；/quota <用户ID> default — 恢复默认。回复该用户的消息时可省略用户ID。',
  quotaShow: (userId, q) =>
    `用户 ${userId}：最多同时 ${q.maxActive} 个（当前 ${q.active} 个），24 小时内 ${q.dailyLimit} 个（已用 ${q.usedToday} 个）${q.custom ? '' : '——默认值'}。`,
  quotaReset: (userId, q) => `用户 ${userId}：今天的次数已清零，接下来 24 小时内还可生成 ${q.dailyLimit} 个视频。`,
  notAllowed: (chatId) =>
    `抱歉，这是一个私人机器人，只在主人允许的聊天中使用。如果你认识主人，请让他添加这个聊天（ID ${chatId}）。`,
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
  optionRefused: (e) =>
    e.supported.length === 0
      ? `抱歉，这里的视频服务不能选择${OPTION_ZH[e.option]}：请去掉 ${FLAG_OF[e.option]}。`
      : `抱歉，${e.reason === 'invalid' ? `"${e.value}" 不是可用的${OPTION_ZH[e.option]}` : `这里的视频服务不能生成${OPTION_ZH[e.option]}为 ${e.value} 的视频`}。请在 ${FLAG_OF[e.option]} 后写其中之一：${listed(e)}${e.option === 'duration' ? '（秒）' : ''}。`,
  flagWithoutValue: (flag) => `--${flag} 后面需要写一个值，例如 --ratio 9:16 或 --duration 10。任务没有开始。`,
  optionsHelp: (caps) => {
    const lines = flagLines(caps, { ratio: '画面比例', duration: '秒数', resolution: '清晰度' });
    return lines.length
      ? ['选项：写在提示词或说明文字里，例如 /video 一只猫在冲浪 --ratio 9:16 --duration 10', ...lines].join('\n')
      : '';
  },
};

export const MESSAGES: Record<Lang, Messages> = { en, zh };
