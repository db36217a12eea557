/**
 * Counts the Chromium processes this process started, from `/proc` (Linux): every process whose ancestry leads
 * back here and whose command name looks like Chromium. A `ProcessWatch` samples that every 50 ms, keeping the
 * distinct processes started since it began, the browsers among them (Chromium processes whose parent is this
 * one) and the peak alive.
 */
import { readdirSync, readFileSync } from 'node:fs';

interface ProcInfo {
  pid: number;
  ppid: number;
  comm: string;
}

function readProcesses(): ProcInfo[] {
  const list: ProcInfo[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      // /proc/<pid>/stat: "pid (comm) state ppid …"; comm may hold spaces and parentheses, so cut at the last ')'.
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      const close = stat.lastIndexOf(')');
      const ppid = Number(stat.slice(close + 2).split(' ')[1]);
      list.push({ pid: Number(name), ppid, comm: stat.slice(stat.indexOf('(') + 1, close) });
    } catch {
      // the process ended while the list was read
    }
  }
  return list;
}

/** The Chromium processes descending from this process now, and which of them are browsers (its children). */
export function chromiumProcesses(): { all: number[]; browsers: number[] } {
  const procs = readProcesses();
  const byPid = new Map(procs.map((p) => [p.pid, p]));
  const descends = (p: ProcInfo): boolean => {
    for (let at = byPid.get(p.ppid), hops = 0; at && hops < 64; at = byPid.get(at.ppid), hops++) {
      if (at.pid === process.pid) return true;
    }
    return p.ppid === process.pid;
  };
  const chromium = procs.filter((p) => /chrom|headless/i.test(p.comm) && descends(p));
  return {
    all: chromium.map((p) => p.pid),
    browsers: chromium.filter((p) => p.ppid === process.pid).map((p) => p.pid),
  };
}

export class ProcessWatch {
  readonly started = new Set<number>();
  readonly browsers = new Set<number>();
  peakAlive = 0;
  readonly #before = new Set(chromiumProcesses().all);
  readonly #timer: NodeJS.Timeout;

  constructor() {
    this.#sample();
    this.#timer = setInterval(() => this.#sample(), 50);
  }

  stop(): void {
    clearInterval(this.#timer);
    this.#sample();
  }

  #sample(): void {
    const { all, browsers } = chromiumProcesses();
    for (const pid of all) if (!this.#before.has(pid)) this.started.add(pid);
    for (const pid of browsers) if (!this.#before.has(pid)) this.browsers.add(pid);
    this.peakAlive = Math.max(this.peakAlive, all.length);
  }
}
