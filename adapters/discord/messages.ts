/**
 * Every sentence the Discord bot says, in English and Chinese, chosen by the user's `interaction.locale`
 * (`zh-CN`, `zh-TW` → Chinese; other locales → English; unknown → DEFAULT_LOCALE).
 */
import type {
  AccountHealth,
  OptionName,
  OptionRefused,
  Reason,
  RecordedIncident,
  TaskStatus,
  UserQuota,
} from '../../src/core/index.js';
import { INCIDENT_EN, INCIDENT_ZH } from '../incident-wording.js';
import { reasonText } from '../reason-wording.js';

export type Lang = 'en' | 'zh';

export function langOf(locale: string | null | undefined, fallback: Lang): Lang {
  if (!locale) return fallback;
  return locale.toLowerCase().startsWith('zh') ? 'zh' : 'en';
}

const OPTION_EN: Record<OptionName, string> = { ratio: 'aspect ratio', duration: 'duration', resolution: 'resolution' };
const OPTION_ZH: Record<OptionName, string> = { ratio: '画面比例', duration: '时长', resolution: '分辨率' };

const en = {
  alert: (i: RecordedIncident) =>
    [
      `${i.kind === 'recovered' ? '✅' : '⚠️'} **${i.provider} · ${i.subject}**: ${INCIDENT_EN[i.kind]}${i.code ? ` (code \`${i.code}\`)` : ''}.`,
      `What happened: ${i.message}`,
      ...(i.action ? [`What to do: ${i.action}`] : []),
    ].join('\n'),
  progress: (id: string, attempts: number, max: number) =>
    `⏳ Task \`${id}\` is being generated (check ${attempts} of ${max}).`,
  statusDone: (id: string) => `✅ Task \`${id}\` is finished.`,
  statusFailed: (id: string) => `❌ Task \`${id}\` failed.`,
  cancelled: (id: string) => `🛑 Task \`${id}\` was cancelled.`,
  done: (mention: string, id: string) => `${mention} your video is ready (task \`${id}\`).`,
  doneUpstreamLink: (mention: string, id: string, url: string) =>
    `${mention} your video is ready (task \`${id}\`). This server could not keep a copy, so this is the provider's link; it may expire, so save the video soon: ${url}`,
  doneLink: (mention: string, id: string, url: string) =>
    `${mention} your video is ready (task \`${id}\`); it is too large to upload here: ${url}`,
  failed: (mention: string, id: string, reason: string) =>
    `${mention} task \`${id}\` failed: ${reason}. You can try again with the button below.`,
  cancelButton: 'Cancel',
  retryButton: 'Retry',
  cancelledOk: (id: string) => `Task \`${id}\` is cancelled.`,
  retriedOk: (id: string) => `Task \`${id}\` is queued again.`,
  notOwner: 'Only the person who asked for this video can do that.',
  adminOnly: 'This command is for server managers only.',
  notImage: 'The attachment is not an image; attach a JPEG, PNG, WebP, GIF or BMP file.',
  imageTooLarge: (limit: string) => `The image is larger than the ${limit} limit; attach a smaller one.`,
  badInput: (detail: string) => `That did not work: ${detail}.`,
  quota: (detail: string) => `Limit reached: ${detail}.`,
  notFound: 'No such task.',
  conflict: (detail: string) => `Not possible right now: ${detail}.`,
  upstream: 'The video service is not answering right now; please try again in a few minutes.',
  internal: 'Something went wrong on our side; the details are in the service log.',
  reason: (r: Reason) => reasonText(r, 'en'),
  quotaShow: (userId: string, q: UserQuota) =>
    `<@${userId}>: at most ${q.maxActive} at once (${q.active} now), ${q.dailyLimit} in 24 hours (${q.usedToday} used)${q.custom ? '' : ' — the defaults'}.`,
  quotaReset: (userId: string, q: UserQuota) =>
    `<@${userId}>: today’s count is reset; they may make ${q.dailyLimit} more videos in the next 24 hours.`,
  notAllowed:
    'Sorry, this bot is private: it only works in the servers and for the people its owner has allowed. If you know the owner, ask them to add you.',
  myTasksTitle: 'Your recent videos',
  tasksTitle: 'Tasks',
  noTasks: 'No tasks.',
  page: (from: number, to: number, total: number) => `${from}–${to} of ${total}`,
  previous: 'Previous',
  next: 'Next',
  statsTitle: 'Video tasks',
  provider: 'Provider',
  sessions: 'Upstream sessions',
  accountLine: (a: AccountHealth) =>
    `${a.label}: ${a.state}${a.since ? ` since ${a.since}` : ''}${a.until ? `, until ${a.until}` : ''}${a.lastCode ? ` (last code ${a.lastCode})` : ''}`,
  prompt: 'Prompt',
  status: 'Status',
  owner: 'Asked by',
  attempts: 'Checks',
  error: 'Reason',
  video: 'Video',
  created: 'Created',
  statuses: {
    pending: 'waiting',
    processing: 'generating',
    completed: 'done',
    failed: 'failed',
    cancelled: 'cancelled',
  } satisfies Record<TaskStatus, string>,
  optionRefused: (e: OptionRefused) =>
    e.supported.length === 0
      ? `The video service here cannot choose the ${OPTION_EN[e.option]}; run /video without \`${e.option}\` (the command list may be out of date: an admin can run \`npm run discord:register\`).`
      : `The video service here cannot make ${OPTION_EN[e.option]} ${e.value}; pick one of: ${e.supported.join(', ')}${e.option === 'duration' ? ' (seconds)' : ''}.`,
};

export type Messages = typeof en;

const zh: Messages = {
  alert: (i) =>
    [
      `${i.kind === 'recovered' ? '✅' : '⚠️'} **${i.provider} · ${i.subject}**：${INCIDENT_ZH[i.kind]}${i.code ? `（代码 \`${i.code}\`）` : ''}。`,
      `发生了什么：${i.message}`,
      ...(i.action ? [`怎么办：${i.action}`] : []),
    ].join('\n'),
  progress: (id, attempts, max) => `⏳ 任务 \`${id}\` 正在生成（第 ${attempts}/${max} 次检查）。`,
  statusDone: (id) => `✅ 任务 \`${id}\` 已完成。`,
  statusFailed: (id) => `❌ 任务 \`${id}\` 失败。`,
  cancelled: (id) => `🛑 任务 \`${id}\` 已取消。`,
  done: (mention, id) => `${mention} 你的视频生成好了（任务 \`${id}\`）。`,
  doneUpstreamLink: (mention, id, url) =>
    `${mention} 你的视频生成好了（任务 \`${id}\`）。本服务未能保存副本，以下是提供方的链接，可能会过期，请尽快保存：${url}`,
  doneLink: (mention, id, url) => `${mention} 你的视频生成好了（任务 \`${id}\`），文件太大无法在此上传：${url}`,
  failed: (mention, id, reason) => `${mention} 任务 \`${id}\` 失败：${reason}。可以点下面的按钮重试。`,
  cancelButton: '取消',
  retryButton: '重试',
  cancelledOk: (id) => `任务 \`${id}\` 已取消。`,
  retriedOk: (id) => `任务 \`${id}\` 已重新排队。`,
  notOwner: '只有发起这个视频的人才能这样做。',
  adminOnly: '这个命令仅限服务器管理员使用。',
  notImage: '附件不是图片，请上传 JPEG、PNG、WebP、GIF 或 BMP 文件。',
  imageTooLarge: (limit) => `图片超过 ${limit} 的限制，请换一张小一点的。`,
  badInput: (detail) => `请求无效：${detail}。`,
  quota: (detail) => `已达上限：${detail}。`,
  notFound: '没有这个任务。',
  conflict: (detail) => `现在无法这样做：${detail}。`,
  upstream: '视频服务暂时没有响应，请几分钟后再试。',
  internal: '我们这边出了点问题，详情已记录在服务日志中。',
  reason: (r) => reasonText(r, 'zh'),
  quotaShow: (userId, q) =>
    `<@${userId}>：最多同时 ${q.maxActive} 个（当前 ${q.active} 个），24 小时内 ${q.dailyLimit} 个（已用 ${q.usedToday} 个）${q.custom ? '' : '——默认值'}。`,
  quotaReset: (userId, q) => `<@${userId}>：今天的次数已清零，接下来 24 小时内还可生成 ${q.dailyLimit} 个视频。`,
  notAllowed: '抱歉，这是一个私人机器人，只在主人允许的服务器中、为主人允许的人使用。如果你认识主人，请让他添加你。',
  myTasksTitle: '你最近的视频',
  tasksTitle: '任务列表',
  noTasks: '没有任务。',
  page: (from, to, total) => `第 ${from}–${to} 条，共 ${total} 条`,
  previous: '上一页',
  next: '下一页',
  statsTitle: '视频任务统计',
  provider: '服务',
  sessions: '上游会话',
  accountLine: (a) =>
    `${a.label}：${a.state}${a.since ? `，自 ${a.since}` : ''}${a.until ? `，至 ${a.until}` : ''}${a.lastCode ? `（最近代码 ${a.lastCode}）` : ''}`,
  prompt: '提示词',
  status: '状态',
  owner: '发起人',
  attempts: '检查次数',
  error: '原因',
  video: '视频',
  created: '创建时间',
  statuses: { pending: '排队中', processing: '生成中', completed: '已完成', failed: '失败', cancelled: '已取消' },
  optionRefused: (e) =>
    e.supported.length === 0
      ? `这里的视频服务不能选择${OPTION_ZH[e.option]}；请不带 \`${e.option}\` 再用 /video（命令列表可能已过时：管理员可运行 \`npm run discord:register\`）。`
      : `这里的视频服务不能生成${OPTION_ZH[e.option]}为 ${e.value} 的视频；请从中选择：${e.supported.join(', ')}${e.option === 'duration' ? '（秒）' : ''}。`,
};

export function say(lang: Lang): Messages {
  return lang === 'zh' ? zh : en;
}
