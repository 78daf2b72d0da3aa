// One LB node as promote-color sees it: a transport (the node's SSH connection), the scripts of
// remote.ts run through it as root, the app's lock, and HAProxy's stats.
import { ForkliftError, InputError, UnavailableError, type NodeRecord } from '@forklift/contract/lite';
import type { Duplex } from 'node:stream';
import type { LbTransport } from './ssh.js';
import { ADMIN_SOCKET, lockPath, PROMOTE_DIR, SERVER_STATE_FILE, statePath } from './layout.js';
import { ensureDirectory, writeAtomically } from './sftp-files.js';
import type { SFTPWrapper } from 'ssh2';
import { healthScript, lockScript, persistScript, preflightScript, sections, type StateFiles } from './remote.js';
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
  private readonly transport: LbTransport;
  private readonly sudo: string;
  /** Whether the admin socket is reached through a stream-local channel (else `socat` on the node). */
  private unix: boolean;
  private sftpWorks = true;

  constructor(node: NodeRecord, transport: LbTransport) {
    this.node = node;
    this.transport = transport;
    this.sudo = node.user === 'root' ? '' : 'sudo -n ';
    // the socket belongs to root:haproxy (0660): other logins go through sudo and socat
    this.unix = node.user === 'root' && transport.openUnix !== undefined;
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
      return new UnavailableError(
        `${this.id}: user ${this.node.user} cannot run commands as root without a password (sudo -n); allow it on the LB node or log in as root`,
      );
    }
    return new ForkliftError('lb-failed', `${this.id}: ${what} failed: ${detail}`, { exitCode: 1 });
  }

  /** Check socat and the admin socket, read the state file and `show stat`. */
  async preflight(app: string): Promise<Preflight> {
    // open the SFTP session the state files are written through while the preflight runs
    if (this.node.user === 'root') this.transport.sftp?.().catch(() => (this.sftpWorks = false));
    const ran = await this.sh(preflightScript(app));
    if (ran.code !== 0) throw this.failure('preflight', ran);
    const parts = sections(ran.stdout);
    for (const key of parts.keys()) {
      if (!key.startsWith('missing:')) continue;
      const what = key.slice('missing:'.length);
      if (what === 'answer') {
        throw new UnavailableError(
          `${this.id}: HAProxy's admin socket ${ADMIN_SOCKET} does not answer (is HAProxy running? systemctl status haproxy on the LB)`,
          { code: 'no-admin-socket' },
        );
      }
      if (what === 'socket') {
        throw new UnavailableError(
          `${this.id}: no HAProxy admin socket at ${ADMIN_SOCKET} (is HAProxy running with "stats socket ${ADMIN_SOCKET} level admin"? converge the LB with the haproxy crate)`,
          {
            code: 'no-admin-socket',
          },
        );
      }
      throw new UnavailableError(
        `${this.id}: ${what} is not installed on the LB node (apt-get install ${what === 'flock' ? 'util-linux' : what === 'mktemp' ? 'coreutils' : what}; the haproxy crate installs it)`,
        {
          code: 'missing-tool',
        },
      );
    }
    const stateText = (parts.get('state') ?? '').trim();
    const state = stateText ? parseStoredState(stateText, `${this.id}:${statePath(app)}`) : undefined;
    return { state, table: parseShowStat(parts.get('stat') ?? '').table };
  }

  /** `show stat`, parsed. */
  async stats(): Promise<StatTable> {
    return parseShowStat(await this.api('show stat')).table;
  }

  /** One line of `;`-separated runtime API commands; HAProxy's answer. */
  async api(line: string): Promise<string> {
    if (this.unix) {
      try {
        return await this.unixRequest(line);
      } catch (error) {
        // stream-local forwarding refused (sshd's AllowStreamLocalForwarding): socat on the node from now on
        if (!/administratively prohibited|open failed|prohibited/i.test(String((error as Error).message)))
          throw this.apiFailure(line, String((error as Error).message));
        this.unix = false;
      }
    }
    let stdout = '';
    let stderr = '';
    const result = await this.transport.exec(`${this.sudo}socat -t 10 stdio unix-connect:${ADMIN_SOCKET}`, {
      stdin: `${line}\n`,
      onStdout: (chunk) => (stdout += chunk.toString('utf8')),
      onStderr: (chunk) => (stderr += chunk.toString('utf8')),
    });
    if (result.exitCode !== 0) throw this.failure(`runtime API "${line.slice(0, 60)}"`, { code: result.exitCode, stdout, stderr });
    return stdout;
  }

  private apiFailure(line: string, message: string): ForkliftError {
    return new ForkliftError('lb-failed', `${this.id}: runtime API "${line.slice(0, 60)}" failed: ${message}`, { exitCode: 1 });
  }

  private async unixRequest(line: string): Promise<string> {
    const stream: Duplex = await this.transport.openUnix!(ADMIN_SOCKET);
    return new Promise((resolve, reject) => {
      const chunks: Buffer[] = [];
      const timer = setTimeout(() => {
        stream.destroy();
        reject(new Error(`no answer from ${ADMIN_SOCKET} within 10 s`));
      }, 10_000);
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.once('error', (error: Error) => {
        clearTimeout(timer);
        reject(error);
      });
      // HAProxy answers one line of commands, then closes the connection
      stream.once('close', () => {
        clearTimeout(timer);
        resolve(Buffer.concat(chunks).toString('utf8'));
      });
      stream.end(`${line}\n`);
    });
  }

  /**
   * Set runtime state (one line of commands; traffic moves now); returns `show stat` and `show servers state`
   * taken right after the change, in the same exchange.
   */
  async setRuntime(runtime: string): Promise<{ table: StatTable; serverState: string }> {
    const answer = await this.api(`${runtime ? `${runtime}; ` : ''}show servers state; show stat`);
    const statAt = answer.indexOf('# pxname,');
    const stateAt = answer.search(/^1\n# be_id/m);
    const before = answer.slice(0, stateAt >= 0 ? stateAt : statAt >= 0 ? statAt : answer.length).trim();
    if (before) throw new ForkliftError('lb-failed', `${this.id}: HAProxy refused "${runtime.slice(0, 80)}": ${before.split('\n')[0]}`, { exitCode: 1 });
    if (statAt < 0 || stateAt < 0)
      throw new ForkliftError('lb-failed', `${this.id}: HAProxy's answer lacks its server state or stats: ${JSON.stringify(answer.slice(0, 200))}`, {
        exitCode: 1,
      });
    return { table: parseShowStat(answer.slice(statAt)).table, serverState: answer.slice(stateAt, statAt).trimEnd() + '\n' };
  }

  /** setRuntime, then the state files and HAProxy's server-state-file written on the node. */
  async apply(runtime: string, files: StateFiles): Promise<StatTable> {
    const { table, serverState } = await this.setRuntime(runtime);
    await this.persist({ ...files, [SERVER_STATE_FILE]: serverState });
    return table;
  }

  /** Write files atomically on the node: over SFTP for root logins (no process started), else a script through sudo. */
  async persist(files: StateFiles): Promise<void> {
    if (this.node.user === 'root' && this.transport.sftp && this.sftpWorks) {
      let sftp: SFTPWrapper | undefined;
      try {
        sftp = await this.transport.sftp();
      } catch {
        this.sftpWorks = false; // no SFTP subsystem on this sshd: the script below
      }
      if (sftp) {
        try {
          await ensureDirectory(sftp, PROMOTE_DIR);
          await Promise.all(Object.entries(files).map(([path, content]) => writeAtomically(sftp, path, content)));
          return;
        } catch (error) {
          throw new ForkliftError('lb-failed', `${this.id}: saving the state files failed: ${(error as Error).message}`, { exitCode: 1 });
        }
      }
    }
    const ran = await this.sh(persistScript(files));
    if (ran.code !== 0) throw this.failure('saving the state files', ran);
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
      throw new UnavailableError(`${this.id}: another promote-color run holds the lock for ${app} (${holder}; ${lockPath(app)}): wait for it to end`, {
        code: 'locked',
      });
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
  return new InputError(`${lb.id}: HAProxy has no backend "${app}" (backends: ${known.join(', ') || 'none'}): APP names the app whose colors are shifted`, {
    code: 'unknown-app',
  });
}
