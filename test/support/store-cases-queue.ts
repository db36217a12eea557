/**
 * Conformance cases for the control and live queue block (issue 15; see test/store-conformance.test.ts): start and
 * video times for the wait estimate, the provider's line of unfinished tasks, and photos waiting for their prompt.
 */
import { expect } from 'vitest';
import { type Case, clock, http, task, telegram } from './store-conformance.js';

export const QUEUE_CASES: Case[] = [
  {
    name: 'video times: a start, a restart, a video, times newest first, and only the latest `keep` per provider kept',
    async run(f) {
      const store = await f.open();
      await store.videoStarted('a', 'p', 1_000);
      expect(await store.videoStartedAt('a')).toBe(1_000);
      await store.videoStarted('a', 'p', 2_000); // retried: the newer start counts
      expect(await store.videoStartedAt('a')).toBe(2_000);
      await store.videoDone('a', 'p', 5_000, 0);
      expect(await store.videoStartedAt('a')).toBeUndefined();
      await store.videoDone('a', 'p', 9_000, 0); // a second report of the same video changes nothing
      await store.videoDone('adopted', 'p', 6_000, 5_500); // no start seen: `startedAt` stands in
      await store.videoDone('odd', 'p', 6_000, 7_000); // a start after the video counts as none
      await store.videoStarted('tie', 'p', 4_000);
      await store.videoDone('tie', 'p', 6_000, 0);
      await store.videoDone('q1', 'q', 3_000, 1_000);
      expect(await store.recentVideoTimesMs('p', 10)).toEqual([2_000, 0, 500, 3_000]);
      expect(await store.recentVideoTimesMs('p', 2)).toEqual([2_000, 0]);
      expect(await store.recentVideoTimesMs('q', 10)).toEqual([2_000]);
      expect(await store.recentVideoTimesMs('none', 10)).toEqual([]);
      await store.videoStarted('gone', 'p', 1_000);
      await store.forgetVideoTime('gone');
      await store.forgetVideoTime('a'); // a finished time stays
      expect(await store.videoStartedAt('gone')).toBeUndefined();
      await store.videoStarted('live', 'p', 7_000);
      await store.videoDone('new', 'p', 8_000, 7_500, 2);
      expect(await store.recentVideoTimesMs('p', 10)).toEqual([500, 2_000, 0, 500]); // ties at 6 000 stay
      await store.videoDone('newer', 'p', 8_500, 8_000, 2);
      expect(await store.recentVideoTimesMs('p', 10)).toEqual([500, 500]);
      expect(await store.videoStartedAt('live')).toBe(7_000); // an unfinished start is never pruned
      expect(await store.recentVideoTimesMs('q', 10)).toEqual([2_000]);
    },
  },
  {
    name: 'the active line lists a provider’s unfinished tasks oldest first, then by id',
    async run(f) {
      const store = await f.open();
      await store.insert(task('b', { origin: telegram }));
      await store.insert(task('B'));
      await store.insert(task('a'));
      clock.at += 1;
      await store.insert(task('0-later'));
      await store.insert(task('done'));
      await store.update('done', { status: 'completed' });
      await store.insert(task('other', { provider: 'q' }));
      const at = (ms: number) => new Date(ms).toISOString();
      expect(await store.activeLine('p')).toEqual([
        { id: 'B', platform: 'http', userId: http.userId, createdAt: at(clock.at - 1) },
        { id: 'a', platform: 'http', userId: http.userId, createdAt: at(clock.at - 1) },
        { id: 'b', platform: 'telegram', userId: telegram.userId, createdAt: at(clock.at - 1) },
        { id: '0-later', platform: 'http', userId: http.userId, createdAt: at(clock.at) },
      ]);
      expect(await store.activeLine('none')).toEqual([]);
    },
  },
  {
    name: 'a photo waiting for its prompt is taken back once, by its user, before it expires; expired ones are swept',
    async run(f) {
      const store = await f.open();
      const photo = { file: { fileId: 'AgAD', width: 1280 }, photoMessageId: 7, caption: null, note: '图片' };
      await store.keepPendingPhoto('42:7', 't1', photo, clock.at + 60_000);
      await store.keepPendingPhoto('42:8', 't1', 'second', clock.at + 1_000);
      expect(await store.countPendingPhotos()).toBe(2);
      expect(await store.takePendingPhoto('42:7', 'someone-else')).toBeUndefined();
      expect(await store.takePendingPhoto('42:7', 't1')).toEqual(photo);
      expect(await store.takePendingPhoto('42:7', 't1')).toBeUndefined();
      clock.at += 1_000; // 42:8 expires now
      expect(await store.takePendingPhoto('42:8', 't1')).toBeUndefined();
      expect(await store.countPendingPhotos()).toBe(1); // expired, not yet swept
      await store.keepPendingPhoto('42:9', 't2', [1, 'two'], clock.at + 10);
      await store.keepPendingPhoto('42:9', 't3', { replaced: true }, clock.at + 10); // the same question again
      expect(await store.countPendingPhotos()).toBe(1);
      expect(await store.takePendingPhoto('42:9', 't2')).toBeUndefined();
      expect(await store.takePendingPhoto('42:9', 't3')).toEqual({ replaced: true });
    },
  },
];
