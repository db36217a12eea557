/**
 * How both bots word a task's place in line and its estimated wait, in English and Chinese: "3 ahead of you ·
 * ready in about 12 min", "estimating…" while the provider has no finished video to measure by. Shared so the
 * Telegram and Discord status messages say the same thing; each adapter adds its own markup around it.
 */
import type { WaitInfo } from '../src/core/index.js';

export type WaitLang = 'en' | 'zh';

/** "about 12 min" / "约 12 分钟"; under a minute and past two hours get their own words. */
export function etaText(etaMs: number | null, lang: WaitLang): string {
  if (etaMs === null) return lang === 'zh' ? '正在估算等待时间…' : 'estimating the wait…';
  const minutes = Math.round(etaMs / 60_000);
  if (etaMs < 60_000) return lang === 'zh' ? '不到 1 分钟' : 'under a minute';
  if (minutes < 120) return lang === 'zh' ? `约 ${minutes} 分钟` : `about ${minutes} min`;
  const hours = Math.round(etaMs / 3_600_000);
  return lang === 'zh' ? `约 ${hours} 小时` : `about ${hours} h`;
}

/** "3 ahead of you · ready in about 12 min" (or "You are next in line · estimating the wait…"). */
export function waitLine(wait: WaitInfo, lang: WaitLang): string {
  const eta = etaText(wait.etaMs, lang);
  if (lang === 'zh') {
    const place = wait.ahead === 0 ? '下一个就轮到你' : `前面还有 ${wait.ahead} 个任务`;
    return wait.etaMs === null ? `${place} · ${eta}` : `${place} · 预计${eta}后完成`;
  }
  const place = wait.ahead === 0 ? 'You are next in line' : `${wait.ahead} ahead of you`;
  return wait.etaMs === null ? `${place} · ${eta}` : `${place} · ready in ${eta}`;
}

/** For a task whose job runs: "about 3 min left" / "预计还需约 3 分钟". */
export function timeLeftLine(etaMs: number | null, lang: WaitLang): string {
  if (etaMs === null) return etaText(null, lang);
  if (etaMs === 0) return lang === 'zh' ? '随时可能完成' : 'any moment now';
  return lang === 'zh' ? `预计还需${etaText(etaMs, lang)}` : `${etaText(etaMs, lang)} left`;
}
