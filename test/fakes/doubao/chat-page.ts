/**
 * The fake's `/chat/<conversation_id>` page: before the video is ready it shows only a "generating" note; once
 * ready it shows a video card whose thumbnail, when clicked (as a user would), asks `get_play_info` for the play
 * URL and plays the MP4 in a `<video>` element — the same sequence the real page follows. Every page carries the
 * fake's signing script (page-signer.ts) in its head, so the page's own calls are signed as the real SDK signs them.
 */

/** `head` is what the page carries before its own scripts: the fake security SDK (page-signer.ts). */
export function chatPageHtml(conversationId: string, state: 'ready' | 'generating' | 'unknown', head = ''): string {
  const body =
    state === 'ready'
      ? `<div class="VideoCard-x1"><img alt="video" src="/thumb/tplv-a9rns2rl98-web-thumb.png" width="160" height="90"></div>
<div id="player"></div>
<script>
document.querySelector('.VideoCard-x1 img').addEventListener('click', async () => {
  const res = await fetch('/samantha/media/get_play_info', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ conversation_id: ${JSON.stringify(conversationId)} }),
  });
  const info = await res.json();
  const video = document.createElement('video');
  video.src = info.data.play_infos[0].main_url;
  video.muted = true;
  video.autoplay = true;
  document.getElementById('player').append(video);
});
</script>`
      : state === 'generating'
        ? '<p class="generating">视频生成中…</p>'
        : '<p>对话不存在</p>';
  return `<!doctype html><html><head><meta charset="utf-8"><title>豆包</title>${head}</head><body>${body}</body></html>`;
}

export const LOGIN_PAGE_HTML =
  '<!doctype html><html><head><meta charset="utf-8"><title>登录</title></head><body><p>请登录</p></body></html>';

/** The ids the fake home page's web client uses, for tests of `npm run session`. */
export const HOME_PAGE_CLIENT = {
  device_id: '7300000000000000001',
  tea_uuid: '7300000000000000002',
  web_id: '7300000000000000003',
  x_flow_trace: '04-00f00ba400000001-00000002-01',
};

/**
 * The fake home page: a user who "logs in" (a `sessionid` cookie appears) and sends a message, as a person would
 * during `npm run session`. Like the real app it shows `/chat/local_…` first and the real id once the answer starts.
 */
export function homePageHtml(head = ''): string {
  const c = HOME_PAGE_CLIENT;
  const query = `aid=497858&device_id=${c.device_id}&tea_uuid=${c.tea_uuid}&web_id=${c.web_id}&samantha_web=1`;
  return `<!doctype html><html><head><meta charset="utf-8"><title>豆包</title>${head}</head><body><p>豆包</p>
<script>
setTimeout(async () => {
  document.cookie = 'sessionid=home' + Math.random().toString(16).slice(2) + '; path=/';
  history.pushState({}, '', '/chat/local_1234567890123456');
  const res = await fetch('/samantha/chat/completion?${query}', {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-flow-trace': '${c.x_flow_trace}' },
    body: JSON.stringify({ messages: [{ content: '{"text":"你好"}', content_type: 2020, attachments: [] }] }),
  });
  for (const line of (await res.text()).split('\\n')) {
    if (!line.startsWith('data: ')) continue;
    const event = JSON.parse(line.slice(6));
    if (event.event_type === 2002) history.pushState({}, '', '/chat/' + JSON.parse(event.event_data).conversation_id);
  }
}, 300);
</script></body></html>`;
}
