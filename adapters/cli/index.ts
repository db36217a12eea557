/**
 * `npm run demo`: the seed's demo menu (video_gen_demo.py) over the HTTP API — image-to-video from a file path,
 * text-to-video, a task's status, the list of tasks, quit — with a spinner while waiting for a video.
 * Flags: `--api <url>` (default PUBLIC_BASE_URL), `--poll-s <seconds>` (30), `--wait-max-min <minutes>` (20),
 * `--import <video_links.json>` (adopt the seed service's task file, then exit).
 */
import { createInterface } from 'node:readline/promises';
import { parseArgs } from 'node:util';
import { loadConfigOrExit } from '../../src/config.js';
import { type ApiClient, ApiError, createApiClient } from './api-client.js';

const DEFAULT_I2V_PROMPT = '请将这张图片生成一个5秒的视频';
const SPINNER = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];
const FINAL = new Set(['completed', 'failed', 'cancelled']);

const { values: flags } = parseArgs({
  options: {
    api: { type: 'string' },
    'poll-s': { type: 'string' },
    'wait-max-min': { type: 'string' },
    import: { type: 'string' },
  },
});
const config = loadConfigOrExit();
const api = createApiClient(flags.api ?? config.PUBLIC_BASE_URL, config.API_TOKEN);
const pollMs = Number(flags['poll-s'] ?? 30) * 1000;
const waitMaxMs = Number(flags['wait-max-min'] ?? 20) * 60_000;
const rl = createInterface({ input: process.stdin, output: process.stdout, terminal: false });
const out = (line = '') => process.stdout.write(`${line}\n`);

/** Polls a task, one status line redrawn in place, until it ends or the wait limit passes. */
async function waitFor(client: ApiClient, conversationId: string, messageId: string): Promise<void> {
  const started = Date.now();
  for (let tick = 0; Date.now() - started < waitMaxMs; tick++) {
    const task = await client.status(conversationId, messageId);
    const minutes = ((Date.now() - started) / 60_000).toFixed(1);
    process.stdout.write(
      `\r${SPINNER[tick % SPINNER.length]} ${task.status} | attempts ${task.retry_count}/${task.max_retries} | ${minutes} min waited`,
    );
    if (FINAL.has(task.status)) {
      out();
      if (task.status === 'completed') out(`视频已生成 / video ready:\n  ${task.video_urls.join('\n  ')}`);
      else out(`任务结束 / task ended: ${task.status} — ${task.error ?? ''}`);
      return;
    }
    await new Promise((resolve) => setTimeout(resolve, pollMs));
  }
  out('\n等待超时 / stopped waiting; check later with menu 3.');
}

async function askWait(conversationId: string, messageId: string): Promise<void> {
  out(`conversation_id: ${conversationId}\nmessage_id: ${messageId}`);
  if ((await rl.question('等待视频生成完成? wait for the video? (y/n): ')).trim().toLowerCase() === 'y') {
    await waitFor(api, conversationId, messageId);
  }
}

const actions: Record<string, () => Promise<boolean>> = {
  async '1'() {
    const path = (await rl.question('图片路径 / image path: ')).trim();
    const attachment = await api.upload(path);
    out(`上传成功 / uploaded: ${String(attachment.key)}`);
    const prompt = (await rl.question(`提示词 / prompt [${DEFAULT_I2V_PROMPT}]: `)).trim() || DEFAULT_I2V_PROMPT;
    const task = await api.generate(prompt, attachment);
    out(`任务已创建 / task created (${task.estimated_time})`);
    await askWait(task.conversation_id, task.message_id);
    return true;
  },
  async '2'() {
    const prompt = (await rl.question('提示词 / prompt: ')).trim();
    if (!prompt) {
      out('提示词不能为空 / the prompt is required');
      return true;
    }
    const task = await api.generate(prompt);
    out(`任务已创建 / task created (${task.estimated_time})`);
    await askWait(task.conversation_id, task.message_id);
    return true;
  },
  async '3'() {
    const conversationId = (await rl.question('conversation_id: ')).trim();
    const messageId = (await rl.question('message_id: ')).trim();
    const task = await api.status(conversationId, messageId);
    out(JSON.stringify(task, null, 2));
    if (!FINAL.has(task.status)) await askWait(conversationId, messageId);
    return true;
  },
  async '4'() {
    const { total, tasks } = await api.list();
    out(`共 ${total} 个任务 / ${total} tasks`);
    for (const t of tasks) {
      out(
        `- ${t.message_id} | ${t.status} | conversation ${t.conversation_id} | attempts ${t.retry_count}/${t.max_retries} | ${t.video_urls.length} videos`,
      );
    }
    return true;
  },
  async '5'() {
    return false;
  },
};

if (flags.import) {
  const result = await api.importSeedFile(flags.import).catch((error: Error) => {
    out(`错误 / error: ${error.message}`);
    process.exit(1);
  });
  out(
    `导入 ${result.imported} 个任务,跳过 ${result.skipped} 个 / imported ${result.imported}, skipped ${result.skipped}`,
  );
  process.exit(0);
}

out(`doubao-video-bot demo — ${flags.api ?? config.PUBLIC_BASE_URL}`);
for (let running = true; running; ) {
  out(
    '\n1. 图生视频 image-to-video\n2. 文生视频 text-to-video\n3. 查询任务 task status\n4. 任务列表 list tasks\n5. 退出 quit',
  );
  const choice = (await rl.question('请选择 / choose (1-5): ').catch(() => '5')).trim();
  const action = actions[choice];
  if (!action) {
    out('无效选择 / unknown choice');
    continue;
  }
  try {
    running = await action();
  } catch (error) {
    if (!(error instanceof ApiError)) throw error;
    out(`错误 / error: ${error.message}`);
  }
}
rl.close();
process.exit(0); // pooled keep-alive sockets to the API would otherwise hold the process for a while
