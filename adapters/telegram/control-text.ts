/**
 * The Telegram words of issue 15's controls and live queue, in English and Chinese: the status message's lines
 * (accepted with the place in line and the wait, waiting, running with the time left), the inline buttons'
 * labels, and the short answers to a button press (Telegram shows them as a toast, 200 characters at most).
 * Kept apart from locale.ts so these features' sentences live together.
 */
import type { Task, WaitInfo } from '../../src/core/index.js';
import { timeLeftLine, waitLine } from '../wait-wording.js';
import type { Lang } from './locale.js';

export type ControlAction = 'cancel' | 'retry' | 'again';

const en = {
  accepted: (id: string, wait: WaitInfo) => `🎬 Task ${id} accepted.\n${waitLine(wait, 'en')}.`,
  waiting: (id: string, wait: WaitInfo) => `🕓 Task ${id} is waiting.\n${waitLine(wait, 'en')}.`,
  timeLeft: (etaMs: number | null) => `${timeLeftLine(etaMs, 'en')}.`,
  buttons: { cancel: '🚫 Cancel', retry: '🔁 Retry', again: '🎬 Again' } satisfies Record<ControlAction, string>,
  notOwner: (action: ControlAction) =>
    `Only the person who asked for this video can ${action === 'again' ? 'make it again' : action} it.`,
  cancelled: (id: string) => `Task ${id} cancelled.`,
  retried: (id: string) => `Task ${id} queued again.`,
  againDone: (id: string) => `New task ${id} queued.`,
  gone: 'This task no longer exists.',
  stale: (status: Task['status']) => `Too late: this task is ${STATUS_EN[status]} now.`,
};

const STATUS_EN: Record<Task['status'], string> = {
  pending: 'waiting',
  processing: 'being made',
  completed: 'done',
  failed: 'failed',
  cancelled: 'cancelled',
};

const STATUS_ZH: Record<Task['status'], string> = {
  pending: '排队中',
  processing: '生成中',
  completed: '已完成',
  failed: '已失败',
  cancelled: '已取消',
};

export type ControlMessages = typeof en;

const zh: ControlMessages = {
  accepted: (id, wait) => `🎬 任务 ${id} 已接受。\n${waitLine(wait, 'zh')}。`,
  waiting: (id, wait) => `🕓 任务 ${id} 正在排队。\n${waitLine(wait, 'zh')}。`,
  timeLeft: (etaMs) => `${timeLeftLine(etaMs, 'zh')}。`,
  buttons: { cancel: '🚫 取消', retry: '🔁 重试', again: '🎬 再来一个' },
  notOwner: (action) =>
    `只有发起这个视频的人才能${action === 'cancel' ? '取消' : action === 'retry' ? '重试' : '再生成一次'}。`,
  cancelled: (id) => `任务 ${id} 已取消。`,
  retried: (id) => `任务 ${id} 已重新排队。`,
  againDone: (id) => `新任务 ${id} 已排队。`,
  gone: '这个任务已不存在。',
  stale: (status) => `太迟了：这个任务现在${STATUS_ZH[status]}。`,
};

export const CONTROL_MESSAGES: Record<Lang, ControlMessages> = { en, zh };
