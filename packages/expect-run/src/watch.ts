import { watch, type FSWatcher } from 'node:fs';
import { dirname, join, sep } from 'node:path';
import type { Discovery } from './discover.js';

/**
 * How long the files must stay quiet after a save before a re-run starts: a burst of saves is one run. 150 ms keeps
 * an editor's save-all (or a formatter rewriting the file) in one run on a loaded machine, and a re-run well inside
 * half a second of the last save.
 */
export const DEBOUNCE_MS = 150;

/** What the watch loop needs from the runner. */
export interface WatchOptions {
  /** Find the test files again (new ones run, deleted ones drop). */
  discover(): Discovery;
  /** The local files a test file imported when it last ran (itself included). */
  dependencies(file: string): Set<string>;
  /** Run these test files as run number `run`. */
  runFiles(files: string[], run: number): Promise<void>;
  /** Say something on stderr. */
  log(line: string): void;
  signal: AbortSignal;
  debounceMs?: number;
}

/**
 * autoexpect: after the first run, watch the test files and every local module they import; when
 * some change, wait until saves stop, then re-run only the affected test files (and new ones).
 * Keeps going after failures; returns the number of the last run when `signal` aborts (Ctrl-C).
 * @example const runs = await watchTests(initial, 1, { discover, dependencies, runFiles, log, signal })
 */
export async function watchTests(initial: Discovery, firstRun: number, options: WatchOptions): Promise<number> {
  let run = firstRun;
  let known = new Set(initial.files);
  let discovery = initial;
  const watchers = new Map<string, FSWatcher>();
  const changed = new Set<string>();
  let timer: NodeJS.Timeout | undefined;
  let settling: NodeJS.Immediate | undefined;
  let running: Promise<void> | undefined;
  let again = false;

  const watchedDirs = (): Set<string> => {
    const dirs = new Set(discovery.dirs);
    for (const file of discovery.files) for (const dep of options.dependencies(file)) if (!dep.includes(`${sep}node_modules${sep}`)) dirs.add(dirname(dep));
    return dirs;
  };
  const refreshWatchers = (): void => {
    const wanted = watchedDirs();
    for (const [dir, watcher] of watchers) {
      if (!wanted.has(dir)) {
        watcher.close();
        watchers.delete(dir);
      }
    }
    for (const dir of wanted) {
      if (watchers.has(dir)) continue;
      try {
        const watcher = watch(dir, { persistent: true }, (_event, name) => {
          changed.add(name ? join(dir, name.toString()) : dir);
          schedule();
        });
        watcher.on('error', () => undefined);
        watchers.set(dir, watcher);
      } catch {
        // the directory went away: its files count as deleted at the next discovery
      }
    }
  };
  // When the quiet time is up, the run starts on the next turn of the loop, after the file events that arrived
  // meanwhile were read: a process that was not scheduled for longer than the quiet time would otherwise find its
  // timer due before it read the rest of the burst (timers come before I/O in a turn), and run twice.
  const schedule = (): void => {
    if (timer) clearTimeout(timer);
    if (settling) clearImmediate(settling);
    settling = undefined;
    timer = setTimeout(() => {
      timer = undefined;
      settling = setImmediate(() => {
        settling = undefined;
        void trigger();
      });
    }, options.debounceMs ?? DEBOUNCE_MS);
  };
  const trigger = async (): Promise<void> => {
    if (options.signal.aborted) return;
    if (running) {
      again = true;
      return;
    }
    const paths = new Set(changed);
    changed.clear();
    try {
      discovery = options.discover();
    } catch (error) {
      options.log(`expect-run: ${(error as Error).message}; still watching`);
      return;
    }
    const affected = discovery.files.filter((file) => {
      if (!known.has(file) || paths.has(file)) return true;
      for (const dep of options.dependencies(file)) if (paths.has(dep) || paths.has(dirname(dep))) return true;
      return false;
    });
    known = new Set(discovery.files);
    refreshWatchers();
    if (affected.length === 0) return;
    run += 1;
    options.log(`expect-run: run ${run}: ${affected.length} test file${affected.length === 1 ? '' : 's'} affected by the change`);
    running = options.runFiles(affected, run).finally(() => {
      running = undefined;
      refreshWatchers();
      if (again && !options.signal.aborted) {
        again = false;
        schedule();
      }
    });
    await running;
  };

  refreshWatchers();
  options.log(`expect-run: watching ${known.size} test file${known.size === 1 ? '' : 's'} and their imports; Ctrl-C ends`);
  await new Promise<void>((resolve) => {
    if (options.signal.aborted) return resolve();
    options.signal.addEventListener('abort', () => resolve(), { once: true });
  });
  if (timer) clearTimeout(timer);
  if (settling) clearImmediate(settling);
  for (const watcher of watchers.values()) watcher.close();
  await running;
  return run;
}
