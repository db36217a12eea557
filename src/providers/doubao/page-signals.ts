/**
 * Everything retrieval knows about Doubao's chat page, in one place so a layout change is a one-file fix:
 * which URLs are videos, which API answers carry play URLs, what to click to open a video, and what a login
 * page looks like. Plus the pure helpers that read video URLs out of JSON and HTML.
 */

/** The API whose JSON answer lists a video's play URLs: read first, it does not depend on the page layout. */
export const PLAY_INFO_PATH = /get_play_info/;

/** Thumbnails that open the video player when clicked (the page may load play URLs only then). */
export const VIDEO_THUMBNAIL_SELECTORS = [
  'img[src*="tplv-a9rns2rl98-web-thumb"]',
  '[class*="VideoCard"] img',
  '[class*="video-card"] img',
  '[data-testid*="video"] img',
];

/** A path or address that means the session is no longer logged in. */
export const LOGIN_PAGE = /\/(login|passport)\b/i;

/**
 * Doubao's own video hosts (2026) serve play URLs whose path ends in `/` with `mime_type=video_mp4` in the
 * query: they are taken whatever the path ends with, and the download checks the file itself.
 */
const VIDEO_HOSTS = /(^|\.)douyinvod\.com$|^[\w-]*(video|vod)[\w-]*\.doubao\.com$/i;
const VIDEO_QUERY = /(^|[?&])mime_type=video_/i;

/**
 * True for a video file URL: a video host, a `mime_type=video_…` play URL, or a path ending in a video
 * extension; never the play-info API.
 */
export function isVideoUrl(candidate: string): boolean {
  let url: URL;
  try {
    url = new URL(candidate);
  } catch {
    return false;
  }
  if (!/^https?:$/.test(url.protocol) || PLAY_INFO_PATH.test(url.pathname)) return false;
  return VIDEO_HOSTS.test(url.hostname) || VIDEO_QUERY.test(url.search) || /\.(mp4|webm|m3u8)$/i.test(url.pathname);
}

/** Every video URL anywhere in a JSON value (the play-info answer's field names are not relied upon). */
export function videoUrlsInJson(value: unknown, found = new Set<string>()): Set<string> {
  if (typeof value === 'string') {
    if (isVideoUrl(value)) found.add(value);
  } else if (Array.isArray(value)) {
    for (const item of value) videoUrlsInJson(item, found);
  } else if (value && typeof value === 'object') {
    for (const item of Object.values(value)) videoUrlsInJson(item, found);
  }
  return found;
}

/** Video URLs written in a page's HTML (attribute values and inline scripts). */
export function videoUrlsInHtml(html: string): Set<string> {
  const found = new Set<string>();
  for (const match of html.matchAll(/https?:\/\/[^\s"'<>\\]+/g)) {
    const url = match[0].replaceAll('&amp;', '&');
    if (isVideoUrl(url)) found.add(url);
  }
  return found;
}
