/**
 * What each kind of recorded incident is called in the bots' alerts, in English and Chinese. Shared so the
 * Telegram and Discord alerts name an incident the same way; each adapter keeps its own rendering (markup,
 * code formatting) around these words.
 */
import type { RecordedIncident } from '../src/core/index.js';

export const INCIDENT_EN: Record<RecordedIncident['kind'], string> = {
  expired: 'the session expired',
  risk_control: 'paused by risk control',
  rate_limited: 'rate-limited',
  recovered: 'working again',
};

export const INCIDENT_ZH: Record<RecordedIncident['kind'], string> = {
  expired: '会话已失效',
  risk_control: '被风控暂停',
  rate_limited: '被限流',
  recovered: '已恢复正常',
};
