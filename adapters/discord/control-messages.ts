/**
 * The Discord words of issue 15's controls and live queue, in English and Chinese: the `/video` reply with the
 * place in line and the estimated wait, the waiting and time-left lines of later edits, the Again button, and
 * `/queue`. Kept apart from messages.ts so these features' sentences live together.
 */
import type { Task, WaitInfo } from '../../src/core/index.js';
import { timeLeftLine, waitLine } from '../wait-wording.js';
import type { Lang } from './messages.js';

const en = {
  accepted: (id: string, wait: WaitInfo) => `🎬 Task \`${id}\` accepted. ${waitLine(wait, 'en')}.`,
  waiting: (id: string, wait: WaitInfo) => `🕓 Task \`${id}\` is waiting. ${waitLine(wait, 'en')}.`,
  timeLeft: (etaMs: number | null) => `${timeLeftLine(etaMs, 'en')}.`,
  againButton: 'Again',
  againOk: (id: string) => `🎬 Same prompt again: task \`${id}\`.`,
  queueTitle: 'The queue',
  queueTotal: (n: number) => (n === 1 ? '1 video in the queue.' : `${n} videos in the queue.`),
  queueNone: 'You have no video in the queue.',
  queueMine: (task: Task, wait: WaitInfo) =>
    `\`${task.id}\` · ${task.upstream ? `being made · ${timeLeftLine(wait.etaMs, 'en')}` : waitLine(wait, 'en')}`,
};

export type ControlMessages = typeof en;

const zh: ControlMessages = {
  accepted: (id, wait) => `🎬 任务 \`${id}\` 已接受。${waitLine(wait, 'zh')}。`,
  waiting: (id, wait) => `🕓 任务 \`${id}\` 正在排队。${waitLine(wait, 'zh')}。`,
  timeLeft: (etaMs) => `${timeLeftLine(etaMs, 'zh')}。`,
  againButton: '再来一个',
  againOk: (id) => `🎬 用同样的提示词再生成：任务 \`${id}\`。`,
  queueTitle: '队列',
  queueTotal: (n) => `队列中共有 ${n} 个视频。`,
  queueNone: '你没有排队中的视频。',
  queueMine: (task, wait) =>
    `\`${task.id}\` · ${task.upstream ? `生成中 · ${timeLeftLine(wait.etaMs, 'zh')}` : waitLine(wait, 'zh')}`,
};

export function control(lang: Lang): ControlMessages {
  return lang === 'zh' ? zh : en;
}
