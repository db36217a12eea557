/**
 * Admin alerts of provider incidents through the real Telegram adapter and the fake Bot API (issue 11 item 4): one
 * message per incident to every TELEGRAM_ADMIN_IDS chat, in DEFAULT_LOCALE, also when the bot was down between the
 * incident and the send, and never again for the same incident.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { ProviderIncident } from '../../src/providers/provider.js';
import { reportingProvider } from '../support/test-core.js';
import { type BotHarness, startBotHarness } from './harness.js';

let h: BotHarness;
afterEach(async () => {
  await h?.close();
});

const expired: ProviderIncident = {
  provider: 'doubao',
  subject: 'main account',
  kind: 'expired',
  code: '710022004',
  message: 'the session is no longer logged in.',
  action: 'run `npm run session` and log in again.',
};

const settle = (ms = 500) => new Promise((resolve) => setTimeout(resolve, ms));
const alertsTo = (harness: BotHarness, chatId: number) =>
  harness.fake.calls('sendMessage', chatId).filter((c) => c.errorCode === undefined);

describe('admin alerts on Telegram', () => {
  it('#11.4 an incident reaches every admin exactly once, also across a restart between incident and send', async () => {
    const { provider, report } = reportingProvider();
    h = await startBotHarness({ TELEGRAM_ADMIN_IDS: '801 802' }, { provider });
    await h.stopAdapter(); // the bot is down: the alert can only wait
    report(expired);
    await h.restart({ startAdapter: false });
    report(expired); // the provider finds the same state again after the restart: not a new incident
    await h.restart();
    for (const chat of [801, 802]) await h.fake.waitFor('sendMessage', (c) => Number(c.payload.chat_id) === chat);
    await settle();
    await h.restart();
    await settle();
    for (const chat of [801, 802]) {
      const sent = alertsTo(h, chat);
      expect(sent).toHaveLength(1);
      expect(String(sent[0]!.payload.text)).toBe(
        [
          '⚠️ doubao · main account: the session expired (code 710022004).',
          'What happened: the session is no longer logged in.',
          'What to do: run `npm run session` and log in again.',
        ].join('\n'),
      );
    }
  });

  it('#11.4 in Chinese with DEFAULT_LOCALE=zh; an admin who never opened the chat is given up with the reason', async () => {
    const { provider, report } = reportingProvider();
    h = await startBotHarness({ TELEGRAM_ADMIN_IDS: '803,804', DEFAULT_LOCALE: 'zh' }, { provider });
    h.fake.knobs.faults.sendMessage = { code: 400, description: 'Bad Request: chat not found', times: 1 };
    report({ ...expired, kind: 'risk_control', code: undefined, message: '风控暂停了这个会话。', action: undefined });
    await h.fake.waitFor('sendMessage', (c) => c.errorCode === undefined);
    await settle();
    const [refused, told] = h.fake.calls('sendMessage');
    expect(refused!.errorCode).toBe(400);
    expect(String(told!.payload.text)).toBe('⚠️ doubao · main account：被风控暂停。\n发生了什么：风控暂停了这个会话。');
    const rows = await h.core.store.deliveries({ incidentId: 1 });
    expect(rows.map((r) => r.state).sort()).toEqual(['given_up', 'sent']);
    expect(rows.find((r) => r.state === 'given_up')!.givenUpReason).toBe(
      'Telegram answered 400: Bad Request: chat not found',
    );
    expect(h.fake.calls('sendMessage')).toHaveLength(2);
  });
});
