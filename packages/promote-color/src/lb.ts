// One LB node as promote-color sees it: a transport (the node's SSH connection), the scripts of
// remote.ts run through it as root, the app's lock, and HAProxy's stats.
import { ForkliftError, InputError, UnavailableError, type NodeRecord } from '@forklift/contract';
import type { Transport } from '@forklift/run-actions';
import { ADMIN_SOCKET, lockPath, statePath } from './layout.js';
import { applyScript, healthScript, lockScript, preflightScript, sections, type StateFiles } from './remote.js';
import { parseStoredState, type PromoteState } from './state.js';
import { parseShowStat, type StatTable } from './stats.js';

/** Output of one command on the LB. */
interface Ran {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** What the preflight learned on one LB. */
export interface Preflight {
  state: PromoteState | undefined;
  table: StatTable;
}

/** A held lock: release() closes the holding channel. */
export interface HeldLock {
  release(): Promise<void>;
}

/** An LB node with its open transport. */
export class LbSession {
  readonly node: NodeRecord;
  private readonly transport: Transport;
  private readonly sudo: string;

  constructor(node: NodeRecord, transport: Transport) {
    this.node = node;
    this.transport = transport;
    this.sudo = node.user === 'root' ? '' : 'sudo -n ';
  }

  get id(): string {
    return this.node.id;
  }

  /** Run a script (on stdin) with `sh -s` as root. */
  async sh(script: string, signal?: AbortSignal): Promise<Ran> {
    let stdout = '';
    let stderr = '';
    const result = await this.transport.exec(`${this.sudo}sh -s`, {
      stdin: script,
      signal,
      onStdout: (chunk) => (stdout += chunk.toString('utf8')),
      onStderr: (chunk) => (stderr += chunk.toString('utf8')),
    });
    return { code: result.exitCode, stdout, stderr };
  }

  private failure(what: string, ran: Ran): ForkliftError {
    const detail = ran.stderr.trim().split('\n').filter(Boolean).at(-1) ?? `exit ${ran.code}`;
    if (/sudo: .*password/.test(ran.stderr)) {
      return new UnavailableError(`${this.id}: user ${this.node.user} cannot run commands as root without a password (sudo -n); allow it on the LB node or log in as root`);
    }
    return new ForkliftError('lb-failed', `${this.id}: ${what} failed: ${detail}`, { exitCode: 1 });
  }

  /** Check socat and the admin socket, read the state file and `show stat`. */
  async preflight(app: string): Promise<Preflight> {
    const ran = await this.sh(preflightScript(app));
    if (ran.code !== 0) throw this.failure('preflight', ran);
    const parts = sections(ran.stdout);
    for (const key of parts.keys()) {
      if (!key.startsWith('missing:')) continue;
      const what = key.slice('missing:'.length);
      if (what === 'answer') {
        throw new UnavailableError(`${this.id}: HAProxy's admin socket ${ADMIN_SOCKET} does not answer (is HAProxy running? systemctl status haproxy on the LB)`, { code: 'no-admin-socket' });
      }
      if (what === 'socket') {
        throw new UnavailableError(`${this.id}: no HAProxy admin socket at ${ADMIN_SOCKET} (is HAProxy running with "stats socket ${ADMIN_SOCKET} level admin"? converge the LB with the haproxy crate)`, {
          code: 'no-admin-socket',
        });
      }
      throw new UnavailableError(`${this.id}: ${what} is not installed on the LB node (apt-get install ${what === 'flock' ? 'util-linux' : what === 'mktemp' ? 'coreutils' : what}; the haproxy crate installs it)`, {
        code: 'missing-tool',
      });
    }
    const stateText = (parts.get('state') ?? '').trim();
    const state = stateText ? parseStoredState(stateText, `${this.id}:${statePath(app)}`) : undefined;
    return { state, table: parseShowStat(parts.get('stat') ?? '').table };
  }

  /** `show stat`, parsed. */
  async stats(): Promise<StatTable> {
    return (await this.api('show stat')).table;
  }

  /** One line of runtime API commands; returns the parsed `show stat` when the line ends with it. */
  async api(line: string): Promise<{ table: StatTable; preamble: string }> {
    let stdout = '';
    let stderr = '';
    const result = await this.transport.exec(`${this.sudo}socat -t 10 stdio unix-connect:${ADMIN_SOCKET}`, {
      stdin: `${line}\n`,
      onStdout: (chunk) => (stdout += chunk.toString('utf8')),
      onStderr: (chunk) => (stderr += chunk.toString('utf8')),
    });
    if (result.exitCode !== 0) throw this.failure(`runtime API "${line.slice(0, 60)}"`, { code: result.exitCode, stdout, stderr });
    return parseShowStat(stdout);
  }

  /** Set runtime state and persist the state files atomically; returns `show stat` afterwards. */
  async apply(runtime: string, files: StateFiles): Promise<StatTable> {
    const ran = await this.sh(applyScript(runtime, files));
    if (ran.code !== 0) throw this.failure('setting weights', ran);
    return parseShowStat(sections(ran.stdout).get('stat') ?? '').table;
  }

  /** HTTP status of GET `path` on each `address:port`, asked from the LB node. */
  async health(targets: readonly string[], path: string): Promise<Map<string, number>> {
    const out = new Map<string, number>();
    if (targets.length === 0) return out;
    const ran = await this.sh(healthScript(targets, path));
    if (ran.code !== 0) throw this.failure('health check', ran);
    for (const line of ran.stdout.split('\n')) {
      const [target, status] = line.trim().split(' ');
      if (target && status) out.set(target, Number(status));
    }
    return out;
  }

  /**
   * Take the app's lock (held by a channel whose stdin stays open). Refuses with exit 69 when another
   * run holds it, naming that run.
   */
  async lock(app: string, owner: string): Promise<HeldLock> {
    const release = new AbortController();
    let stdout = '';
    let stderr = '';
    let settle: ((value: 'locked' | 'ended') => void) | undefined;
    const decided = new Promise<'locked' | 'ended'>((resolve) => (settle = resolve));
    const done = this.transport
      .exec(`${this.sudo}sh -c ${"'"}${lockScript(app, owner).replace(/'/g, `'\\''`)}${"'"}`, {
        holdStdin: true,
        signal: release.signal,
        onStdout: (chunk) => {
          stdout += chunk.toString('utf8');
          if (stdout.includes('::promote:locked\n')) settle?.('locked');
        },
        onStderr: (chunk) => (stderr += chunk.toString('utf8')),
      })
      .then((result) => {
        settle?.('ended');
        return result;
      });
    const outcome = await decided;
    if (outcome === 'locked') {
      return {
        release: async () => {
          release.abort();
          await done.catch(() => undefined);
        },
      };
    }
    const result = await done;
    const parts = sections(stdout);
    if (parts.has('busy')) {
      const holder = (parts.get('busy') ?? '').trim() || 'another run';
      throw new UnavailableError(`${this.id}: another promote-color run holds the lock for ${app} (${holder}; ${lockPath(app)}): wait for it to end`, { code: 'locked' });
    }
    throw this.failure('taking the lock', { code: result.exitCode, stdout, stderr });
  }

  async close(): Promise<void> {
    await this.transport.close();
  }
}

/** The input error for an app the LB does not serve. */
export function noSuchApp(lb: LbSession, app: string, backends: Iterable<string>): InputError {
  const known = [...backends].filter((name) => !name.includes('_')).sort();
  return new InputError(`${lb.id}: HAProxy has no backend "${app}" (backends: ${known.join(', ') || 'none'}): APP names the app whose colors are shifted`, { code: 'unknown-app' });
}
