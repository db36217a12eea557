/**
 * `classifyAnswer` sorts every Doubao answer of protocol §8 into ok / rate_limited / risk_control / login /
 * refused, whether the code comes as an HTTP status, in a JSON body, in an SSE stream of either dialect or as a
 * captcha page; `isVideoUrl` tells the chat-page scrape which URLs are videos.
 */
import { describe, expect, it } from 'vitest';
import { classifyAnswer } from '../src/providers/doubao/codes.js';
import type { DoubaoAnswer } from '../src/providers/doubao/transport.js';

const json = (body: unknown, status = 200): DoubaoAnswer => ({
  status,
  headers: { 'content-type': 'application/json' },
  body: JSON.stringify(body),
});
const sse = (frames: string): DoubaoAnswer => ({
  status: 200,
  headers: { 'content-type': 'text/event-stream' },
  body: frames,
});

describe('classifyAnswer', () => {
  it.each([
    ['HTTP 429', { status: 429, headers: {}, body: '' }, 'rate_limited', 'HTTP 429'],
    ['710022004 in a 200', json({ code: 710022004, message: 'rate limited' }), 'rate_limited', '710022004'],
    [
      'event 2005',
      sse(`data: ${JSON.stringify({ event_type: 2005, event_data: '{"message":"slow down"}' })}\n\n`),
      'rate_limited',
      '2005',
    ],
    [
      'STREAM_ERROR 710022004',
      sse(`event: SSE_ACK\ndata: {}\n\nevent: STREAM_ERROR\ndata: {"error_code":710022004,"error_msg":"busy"}\n\n`),
      'rate_limited',
      '710022004',
    ],
    ['STREAM_ERROR 429', sse('event: STREAM_ERROR\ndata: {"error_code":429}\n\n'), 'rate_limited', '429'],
    ['710022002 in a 200', json({ code: 710022002, message: '当前服务访问频繁' }), 'risk_control', '710022002'],
    [
      'shark_admin',
      sse('event: STREAM_ERROR\ndata: {"error_code":710022003,"extra":{"decision":{"from":"shark_admin"}}}\n\n'),
      'risk_control',
      '710022003',
    ],
    [
      'a captcha page',
      { status: 200, headers: { 'content-type': 'text/html' }, body: '<html><div id="captcha_container"></div>' },
      'risk_control',
      'captcha',
    ],
    ['1011 in a 200', json({ code: 1011, message: 'not login' }), 'login', '1011'],
    ['-2001 in a 200', json({ code: -2001, message: 'account banned' }), 'login', '-2001'],
    ['`login invalid`', json({ code: 100, message: 'login invalid' }), 'login', '100'],
    ['HTTP 401', { status: 401, headers: {}, body: '' }, 'login', 'HTTP 401'],
    [
      'a login redirect',
      { status: 302, headers: { location: '/passport/login' }, body: '' },
      'login',
      'login redirect',
    ],
    ['HTTP 403 with 1011', json({ code: 1011 }, 403), 'login', '1011'],
    ['a bare HTTP 403', { status: 403, headers: {}, body: 'forbidden' }, 'refused', 'HTTP 403'],
    ['712012002 in a 200', json({ code: 712012002, message: 'bad content type' }), 'refused', '712012002'],
    ['gateway-error', sse('event: gateway-error\ndata: {"code":710022005,"message":"no"}\n\n'), 'refused', '710022005'],
  ] as const)('%s → %s', (_, answer, kind, code) => {
    expect(classifyAnswer(answer)).toMatchObject({ kind, code });
  });

  it.each([
    ['a plain success', json({ code: 0, data: {} })],
    ['a 2026 stream', sse('event: SSE_ACK\ndata: {"ack_client_meta":{}}\n\nevent: SSE_HEARTBEAT\ndata: {}\n\n')],
    ['a 2025 stream', sse(`data: ${JSON.stringify({ event_type: 2002, event_data: '{}' })}\n\n`)],
    ['a 503 with a code in its body (read by its status)', json({ code: -1 }, 503)],
    ['a 404', { status: 404, headers: {}, body: 'not found' }],
  ] as const)('%s → ok', (_, answer) => {
    expect(classifyAnswer(answer)).toEqual({ kind: 'ok' });
  });
});

describe('isVideoUrl (the chat-page scrape)', () => {
  it.each([
    ['https://v26-show.douyinvod.com/abc/video.mp4', true],
    ['https://v3-dy-o.douyinvod.com/abc/', true],
    ['https://video-cn.doubao.com/tos/cn/abc/', true],
    ['https://lf-cdn.example.com/obj/abc/?mime_type=video_mp4&expires=1', true],
    ['https://www.example.com/a.webm', true],
    ['https://www.doubao.com/samantha/media/get_play_info', false],
    ['https://www.doubao.com/chat/123/', false],
    ['javascript:alert(1)', false],
  ])('%s → %s', async (url, expected) => {
    const { isVideoUrl } = await import('../src/providers/doubao/page-signals.js');
    expect(isVideoUrl(url)).toBe(expected);
  });
});
