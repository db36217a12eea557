/**
 * Doubao's errors inside HTTP 200 (protocol §8) as the fake serves them: a captcha page, a STREAM_ERROR frame
 * (2026 completion), a gateway-error event (2025 completion) or a JSON `code`; and which paths belong to which
 * dialect (the other dialect's paths answer 404).
 */
import type { ServerResponse } from 'node:http';
import type { InBodyFault } from './index.js';

export const DIALECT_2025_PATHS = ['/samantha/chat/completion'];
export const DIALECT_2026_PATHS = ['/chat/completion', '/im/chain/single', '/samantha/video/get_play_info'];
export const CAPTCHA_PAGE_HTML =
  '<!doctype html><html><head><title>验证码</title></head><body><div id="captcha_container"><iframe src="https://verify.snssdk.com/captcha"></iframe></div></body></html>';

/** Answers an in-body fault the way Doubao does on that path: a captcha page, an SSE error frame or JSON. */
export function answerInBodyFault(res: ServerResponse, path: string, f: InBodyFault): void {
  if (f.captcha) {
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(CAPTCHA_PAGE_HTML);
    return;
  }
  const extra = f.sharkAdmin ? { extra: { decision: { from: 'shark_admin' } } } : {};
  const message = f.message ?? 'error';
  if (path === '/chat/completion') {
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    res.end(`event: STREAM_ERROR\ndata: ${JSON.stringify({ error_code: f.code, error_msg: message, ...extra })}\n\n`);
  } else if (path === '/samantha/chat/completion') {
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    res.end(`event: gateway-error\ndata: ${JSON.stringify({ code: f.code, message, ...extra })}\n\n`);
  } else {
    json(res, 200, { code: f.code, message, ...extra });
  }
}
function json(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
}
