/**
 * The fake's `/chat/<conversation_id>` page: before the video is ready it shows only a "generating" note; once
 * ready it shows a video card whose thumbnail, when clicked (as a user would), asks `get_play_info` for the play
 * URL and plays the MP4 in a `<video>` element — the same sequence the real page follows.
 */

export function chatPageHtml(conversationId: string, state: 'ready' | 'generating' | 'unknown'): string {
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
  return `<!doctype html><html><head><meta charset="utf-8"><title>豆包</title></head><body>${body}</body></html>`;
}

export const LOGIN_PAGE_HTML =
  '<!doctype html><html><head><meta charset="utf-8"><title>登录</title></head><body><p>请登录</p></body></html>';
