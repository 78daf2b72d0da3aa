import { readdirSync, readFileSync } from 'node:fs';

/** One process as /proc/PID/stat shows it. */
interface ProcStat {
  pid: number;
  parent: number;
  group: number;
  /** Clock ticks since boot (field 22). */
  started: number;
}

function readStat(pid: number): ProcStat | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // the command name (field 2) may hold spaces and parentheses: fields resume after the last ')'
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return { pid, parent: Number(fields[1]), group: Number(fields[2]), started: Number(fields[19]) };
  } catch {
    return undefined;
  }
}

/** Every process now, read once (a process that ends while being read is left out). */
function snapshot(): ProcStat[] {
  const out: ProcStat[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = readStat(Number(entry));
    if (stat) out.push(stat);
  }
  return out;
}

/** Descendants of root (children, grandchildren ...) in a snapshot, parents before children. */
function descendantsIn(processes: ProcStat[], root: number): number[] {
  const children = new Map<number, number[]>();
  for (const { pid, parent } of processes) {
    const list = children.get(parent) ?? [];
    list.push(pid);
    children.set(parent, list);
  }
  const out: number[] = [];
  const queue = [root];
  while (queue.length > 0) {
    const pid = queue.shift()!;
    for (const child of children.get(pid) ?? []) {
      out.push(child);
      queue.push(child);
    }
  }
  return out;
}

/**
 * Every live descendant of a process (children, grandchildren ...), parents before children.
 * @example descendantPids(driver.pid) // [chromium, zygote, renderer ...]
 */
export function descendantPids(root: number): number[] {
  return descendantsIn(snapshot(), root);
}

/** The start time of a process (clock ticks since boot, /proc/PID/stat field 22), or undefined when it is gone. */
export function startTime(pid: number): number | undefined {
  return readStat(pid)?.started;
}

/**
 * Processes seen once and signalled later by PID: each PID is kept with its start time, so a PID
 * the kernel has since given to another process is never signalled.
 */
export class ProcessSet {
  readonly #started = new Map<number, number>();
  readonly #groups = new Map<number, () => boolean>();

  /**
   * Also count every member of a process group as ours (several groups may be tracked), while valid() says the group leader we
   * started still runs (so the group number cannot have been reused): this finds processes that
   * were orphaned (reparented to init) before we saw them, e.g. under a launcher script that does not exec.
   */
  trackGroup(id: number, valid: () => boolean): void {
    this.#groups.set(id, valid);
  }

  /** Remember a process (ignored when it is already gone). */
  add(pid: number): void {
    if (this.#started.has(pid)) return;
    const started = startTime(pid);
    if (started !== undefined) this.#started.set(pid, started);
  }

  /** Remember every live descendant of the remembered processes; returns how many were new. One read of /proc. */
  addDescendants(): number {
    const before = this.#started.size;
    const processes = snapshot();
    const byPid = new Map(processes.map((stat) => [stat.pid, stat]));
    const remember = (stat: ProcStat | undefined): void => {
      if (stat && !this.#started.has(stat.pid)) this.#started.set(stat.pid, stat.started);
    };
    for (const [group, valid] of this.#groups) if (valid()) for (const stat of processes) if (stat.group === group) remember(stat);
    for (const [root, started] of [...this.#started]) {
      if (byPid.get(root)?.started !== started) continue;
      for (const pid of descendantsIn(processes, root)) remember(byPid.get(pid));
    }
    return this.#started.size - before;
  }

  /** Whether the PID still belongs to the process remembered under it. */
  isOurs(pid: number): boolean {
    const started = this.#started.get(pid);
    return started !== undefined && startTime(pid) === started && isAlive(pid);
  }

  /** Every PID ever remembered (some may have exited). */
  pids(): number[] {
    return [...this.#started.keys()];
  }

  /** The remembered PIDs whose process still runs. */
  alive(): number[] {
    return this.pids().filter((pid) => this.isOurs(pid));
  }

  /**
   * Kill the whole tree: SIGSTOP everything (so nothing forks any more) until no new descendant
   * appears, then SIGKILL. Synchronous, so it also works in an 'exit' handler.
   */
  killAll(): void {
    for (let round = 0; round < 10; round += 1) {
      this.addDescendants();
      for (const pid of this.alive()) signalPid(pid, 'SIGSTOP');
      if (this.addDescendants() === 0) break;
    }
    for (const pid of this.alive()) signalPid(pid, 'SIGKILL');
  }

  /**
   * killAll, then wait (synchronously, for an 'exit' handler) until none of the killed processes runs
   * any more, at most `timeoutMs`: a process that ends without close() still leaves nothing behind.
   * Returns the PIDs still alive.
   */
  killAllAndWait(timeoutMs: number): number[] {
    this.killAll();
    const deadline = Date.now() + timeoutMs;
    const pause = new Int32Array(new SharedArrayBuffer(4));
    let alive = this.alive();
    while (alive.length > 0 && Date.now() < deadline) {
      Atomics.wait(pause, 0, 0, 10);
      alive = alive.filter((pid) => this.isOurs(pid));
    }
    return alive;
  }
}

/** Whether a process exists and is not a zombie. @example isAlive(1234) */
export function isAlive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    return state !== 'Z' && state !== 'X';
  } catch {
    return false;
  }
}

/** Send a signal to one PID, ignoring a process that is already gone. @example signalPid(1234, 'SIGKILL') */
export function signalPid(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(pid, signal);
  } catch {
    // already gone
  }
}

/**
 * Wait until none of the PIDs is alive, up to timeoutMs; returns the ones still alive.
 * @example const left = await waitGone([1234, 1235], 2000)
 */
export async function waitGone(pids: number[], timeoutMs: number): Promise<number[]> {
  const deadline = Date.now() + timeoutMs;
  let alive = pids.filter(isAlive);
  while (alive.length > 0 && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 25));
    alive = alive.filter(isAlive);
  }
  return alive;
}
