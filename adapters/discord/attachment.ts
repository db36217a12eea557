/**
 * The `/video` image: checked on what Discord tells us before anything is downloaded (content type, size), then
 * downloaded only from Discord's CDN hosts (plus the host of DISCORD_API_BASE, for a self-hosted or fake API)
 * with the size cap and a time limit; the core checks the bytes' magic numbers.
 */
import type { Attachment } from 'discord.js';
import type { Config } from '../../src/config.js';
import { downloadLimited, formatBytes } from '../../src/core/index.js';
import { proxyAgent } from '../../src/proxy.js';
import type { Messages } from './messages.js';

const CDN_HOSTS = ['cdn.discordapp.com', 'media.discordapp.net'];
const DOWNLOAD_TIMEOUT_MS = 30_000;

/** A sentence refusing the attachment from its metadata alone, or null when it may be downloaded. */
export function refuseAttachment(attachment: Attachment, maxBytes: number, t: Messages): string | null {
  if (attachment.contentType && !attachment.contentType.startsWith('image/')) return t.notImage;
  if (attachment.size > maxBytes) return t.imageTooLarge(formatBytes(maxBytes));
  return null;
}

export function allowedHosts(config: Config): Set<string> {
  const hosts = new Set(CDN_HOSTS);
  if (config.DISCORD_API_BASE) hosts.add(new URL(config.DISCORD_API_BASE).hostname.toLowerCase());
  return hosts;
}

/** @throws InvalidInput (wrong host, too large), UpstreamError (the CDN did not answer). */
export function downloadAttachment(attachment: Attachment, config: Config): Promise<Buffer> {
  const proxy = proxyAgent(config);
  return downloadLimited(attachment.url, {
    maxBytes: config.MAX_IMAGE_BYTES,
    timeoutMs: DOWNLOAD_TIMEOUT_MS,
    allowedHosts: allowedHosts(config),
    // Discord's own CDN is public; only a configured DISCORD_API_BASE (tests, self-hosting) may be local.
    allowPrivate: Boolean(config.DISCORD_API_BASE),
    what: 'the attachment',
    // Through the configured proxy, like the bot's REST calls (the CDN hosts are pinned above).
    ...(proxy && { dispatcher: proxy }),
  });
}
