/**
 * The reasons the core gives (src/core/reasons.ts) in the bots' two languages, shared by Telegram and Discord so
 * both say the same thing. Each is a clause without a final full stop: the bots' templates frame it ("Sorry, I
 * cannot do that: …."). An upstream's own words are shown to Chinese users only when they are Chinese themselves.
 */
import type { Reason, ReasonCode, ReasonParams } from '../src/core/index.js';

export type ReasonLang = 'en' | 'zh';

type Wording = Record<ReasonCode, (p: ReasonParams) => string>;

const STATUS_ZH: Record<string, string> = {
  pending: '排队中',
  processing: '生成中',
  completed: '已完成',
  failed: '已失败',
  cancelled: '已取消',
};

const EN: Wording = {
  PROMPT_EMPTY: () => 'the prompt is empty; describe the video you want',
  PROMPT_TOO_LONG: (p) => `the prompt is ${p.chars} characters; the limit is ${p.limit}`,
  PROMPT_BLOCKED: () => 'the prompt contains words this service does not accept; please rephrase it',
  ACTIVE_LIMIT: (p) =>
    p.limit === 0
      ? 'an admin has paused video making for you'
      : `you already have ${p.active} videos in progress (the limit is ${p.limit}); wait for one to finish`,
  DAILY_LIMIT: (p) =>
    p.limit === 0
      ? 'an admin has paused video making for you'
      : `you reached the limit of ${p.limit} videos in 24 hours; try again later`,
  IMAGE_EMPTY: () => 'the image is empty',
  IMAGE_TOO_LARGE: (p) => `the image is larger than the ${p.limit} limit`,
  IMAGE_TOO_MANY_PIXELS: (p) =>
    `the image is ${p.width}×${p.height}; the limit is ${p.limitMegapixels} megapixels, send a smaller one`,
  IMAGE_NOT_IMAGE: () => 'the file is not a JPEG, PNG, WebP, GIF or BMP image',
  IMAGE_UNREADABLE: () => 'the image could not be read (it is damaged or cut short); send a complete picture',
  TASK_NOT_FOUND: (p) => `there is no task ${p.id}`,
  TASK_ALREADY_FINAL: (p) => `task ${p.id} is already ${p.status}`,
  TASK_NOT_RETRYABLE: (p) => `task ${p.id} is ${p.status}; only failed or cancelled tasks can be retried`,
  IMAGE_NO_LONGER_KEPT: (p) => `the image of task ${p.id} is no longer kept; send it again`,
  PROVIDER_NOT_SERVED: (p) => `task was made for the ${p.provider} service, which is not running now; ask an admin`,
  DISK_FULL: () => "the server's disk is full; try again later",
  UPSTREAM_TIMEOUT: (p) => `the video service did not answer within ${p.seconds} s`,
  UPSTREAM_REFUSED: (p) => (p.detail ? `the video service refused it (${p.detail})` : 'the video service refused it'),
  UPSTREAM_UNAVAILABLE: () => 'the video service kept failing; please try again later',
  SESSION_EXPIRED: () =>
    'the video service needs its operator’s attention; the admins have been told, please try again later',
  NOT_READY: (p) => `the video was still not ready after ${p.attempts} checks`,
  IMAGE_MISSING: () => 'the image of this task is missing; send it again',
};

const ZH: Wording = {
  PROMPT_EMPTY: () => '提示词是空的，请描述你想要的视频',
  PROMPT_TOO_LONG: (p) => `提示词有 ${p.chars} 个字符，上限为 ${p.limit}`,
  PROMPT_BLOCKED: () => '提示词包含本服务不接受的内容，请换个说法',
  ACTIVE_LIMIT: (p) =>
    p.limit === 0
      ? '管理员暂时停用了你的视频生成'
      : `你已有 ${p.active} 个视频正在生成（上限 ${p.limit} 个），请等其中一个完成`,
  DAILY_LIMIT: (p) =>
    p.limit === 0 ? '管理员暂时停用了你的视频生成' : `你已达到 24 小时内 ${p.limit} 个视频的上限，请稍后再试`,
  IMAGE_EMPTY: () => '图片是空的',
  IMAGE_TOO_LARGE: (p) => `图片超过 ${p.limit} 的上限`,
  IMAGE_TOO_MANY_PIXELS: (p) => `图片为 ${p.width}×${p.height}，上限为 ${p.limitMegapixels} 百万像素，请换一张小一点的`,
  IMAGE_NOT_IMAGE: () => '文件不是 JPEG、PNG、WebP、GIF 或 BMP 图片',
  IMAGE_UNREADABLE: () => '图片无法读取（已损坏或不完整），请发送完整的图片',
  TASK_NOT_FOUND: (p) => `没有任务 ${p.id}`,
  TASK_ALREADY_FINAL: (p) => `任务 ${p.id} ${STATUS_ZH[String(p.status)] ?? p.status}`,
  TASK_NOT_RETRYABLE: (p) => `任务 ${p.id} ${STATUS_ZH[String(p.status)] ?? p.status}，只有失败或已取消的任务可以重试`,
  IMAGE_NO_LONGER_KEPT: (p) => `任务 ${p.id} 的图片已不再保存，请重新发送`,
  PROVIDER_NOT_SERVED: (p) => `该任务属于 ${p.provider} 服务，而它现在没有运行；请联系管理员`,
  DISK_FULL: () => '服务器磁盘已满，请稍后再试',
  UPSTREAM_TIMEOUT: (p) => `视频服务在 ${p.seconds} 秒内没有响应`,
  UPSTREAM_REFUSED: (p) =>
    typeof p.detail === 'string' && /\p{Script=Han}/u.test(p.detail)
      ? `视频服务拒绝了这个请求（${p.detail}）`
      : '视频服务拒绝了这个请求',
  UPSTREAM_UNAVAILABLE: () => '视频服务多次出错，请稍后再试',
  SESSION_EXPIRED: () => '视频服务需要管理员处理，已通知管理员，请稍后再试',
  NOT_READY: (p) => `检查了 ${p.attempts} 次，视频仍未生成`,
  IMAGE_MISSING: () => '这个任务的图片不见了，请重新发送',
};

export function reasonText(reason: Reason, lang: ReasonLang): string {
  return (lang === 'zh' ? ZH : EN)[reason.code](reason.params);
}
