// A recording fake of an LB node for promote-color's logic tests: an in-memory HAProxy (servers,
// weights, check states, counters that grow with simulated traffic on every look) behind the
// LbTransport interface: exec answers the preflight, lock, persist and health scripts by their shape,
// openUnix answers runtime API lines. Real HAProxy and real nodes are in system.test.ts.
import { Duplex } from 'node:stream';
import type { NodeRecord } from '@forklift/contract';
import type { ExecOptions, ExecResult } from '@forklift/run-actions';
import type { LbTransport } from '../src/index.js';

export interface FakeServer {
  name: string;
  color: string;
  address: string;
  weight: number;
  status: string;
  sessions: number;
  errors: number;
  /** Fraction of its requests that fail. */
  failing: number;
  health: number;
}

export class FakeLb {
  readonly node: NodeRecord;
  readonly app: string;
  servers: FakeServer[];
  files = new Map<string, string>();
  commands: string[] = [];
  locked = false;
  /** Requests per look at the stats, spread by weight. */
  requestsPerLook = 1000;
  /** Called on every `show stat` (tests break servers mid-stage here). */
  onLook?: (lb: FakeLb, looks: number) => void;
  looks = 0;
  socket = true;

  constructor(id: string, app = 'shop', colors: Record<string, number> = { blue: 1, green: 1 }, live = 'blue') {
    this.node = {
      v: 1,
      kind: 'node',
      id,
      group: 'lb',
      service: 'fake',
      provider: 'fake',
      address: '192.0.2.1',
      port: 22,
      user: 'root',
      state: 'running',
    } as NodeRecord;
    this.app = app;
    let host = 10;
    this.servers = Object.entries(colors).flatMap(([color, count]) =>
      Array.from({ length: count }, (_, i) => ({
        name: `${color}-web-${i + 1}`,
        color,
        address: `10.0.0.${host++}:80`,
        weight: color === live ? Math.round(200 / count) : 0,
        status: 'UP',
        sessions: 0,
        errors: 0,
        failing: 0,
        health: 200,
      })),
    );
  }

  server(name: string): FakeServer {
    return this.servers.find((s) => s.name === name)!;
  }

  weights(): Record<string, number> {
    return Object.fromEntries(this.servers.map((s) => [s.name, s.weight]));
  }

  private traffic(): void {
    const total = this.servers.reduce((sum, s) => sum + s.weight, 0);
    if (total === 0) return;
    for (const s of this.servers) {
      const n = Math.round((this.requestsPerLook * s.weight) / total);
      s.sessions += n;
      s.errors += Math.round(n * s.failing);
    }
  }

  showStat(): string {
    this.looks += 1;
    this.onLook?.(this, this.looks);
    this.traffic();
    const header = '# pxname,svname,stot,econ,eresp,wretr,wredis,status,weight,hrsp_5xx,srv_abrt,check_status,check_code,addr,uweight,';
    const rows = [`${this.app},FRONTEND,0,,,,,OPEN,,0,,,,,,`];
    for (const s of this.servers) rows.push(`${this.app},${s.name},${s.sessions},0,0,0,0,${s.status},${s.weight},${s.errors},0,,,${s.address},${s.weight},`);
    rows.push(`${this.app},BACKEND,0,0,0,0,0,UP,0,0,0,,,,0,`);
    for (const color of [...new Set(this.servers.map((s) => s.color))]) {
      for (const s of this.servers.filter((x) => x.color === color))
        rows.push(
          `${this.app}_${color},${s.name},0,0,0,0,0,${s.status},1,0,0,${s.status === 'UP' ? 'L7OK' : 'L7STS'},${s.status === 'UP' ? 200 : 500},${s.address},1,`,
        );
      rows.push(`${this.app}_${color},BACKEND,0,0,0,0,0,UP,1,0,0,,,,1,`);
    }
    return `${header}\n${rows.join('\n')}\n\n`;
  }

  answer(line: string): string {
    let out = '';
    for (const command of line
      .split(';')
      .map((c) => c.trim())
      .filter(Boolean)) {
      this.commands.push(command);
      let match: RegExpExecArray | null;
      if ((match = /^set weight ([^/]+)\/(\S+) (\d+)$/.exec(command))) {
        const s = this.servers.find((x) => x.name === match![2]);
        if (!s || match[1] !== this.app) out += 'No such server.\n\n';
        else {
          s.weight = Number(match[3]);
          out += '\n';
        }
      } else if (command.startsWith('set map ')) out += '\n';
      else if (command === 'show servers state')
        out += `1\n# be_id be_name srv_id srv_name\n${this.servers.map((s, i) => `4 ${this.app} ${i + 1} ${s.name} ${s.weight}`).join('\n')}\n\n`;
      else if (command === 'show stat') out += this.showStat();
      else out += 'Unknown command.\n\n';
    }
    return out;
  }

  exec(command: string, options: ExecOptions): Promise<ExecResult> {
    const script = String(options.stdin ?? command);
    const say = (text: string) => options.onStdout?.(Buffer.from(text));
    if (script.includes('flock -n 9')) {
      if (this.locked) {
        say('::promote:busy\npromote-color pid 1 on elsewhere since 2026-01-01T00:00:00Z\n');
        return Promise.resolve({ exitCode: 75 });
      }
      this.locked = true;
      say('::promote:locked\n');
      return new Promise((resolve) => {
        const release = () => {
          this.locked = false;
          resolve({ exitCode: 0 });
        };
        if (options.signal?.aborted) release();
        else options.signal?.addEventListener('abort', release, { once: true });
      });
    }
    if (script.includes('::promote:state')) {
      if (!this.socket) say('::promote:missing:socket\n');
      else {
        const state = this.files.get(`/var/lib/forklift/promote/${this.app}.json`);
        say(`::promote:state\n${state ?? ''}\n::promote:stat\n${this.showStat()}`);
      }
      return Promise.resolve({ exitCode: 0 });
    }
    if (script.includes('GET %s HTTP/1.0')) {
      const targets = /main '?\/healthz'? (.*)\n/.exec(script)?.[1]?.split(' ') ?? [];
      say(targets.map((t) => `${t} ${this.servers.find((s) => s.address === t)?.health ?? 0}\n`).join(''));
      return Promise.resolve({ exitCode: 0 });
    }
    return Promise.resolve({ exitCode: 127 });
  }

  transport(): LbTransport {
    return {
      exec: (command, options = {}) => this.exec(command, options),
      close: async () => undefined,
      openUnix: async () => {
        let request = '';
        const lb = this;
        const stream = new Duplex({
          read() {},
          write(chunk, _encoding, done) {
            request += String(chunk);
            done();
          },
          final(done) {
            this.push(lb.answer(request.trim()));
            this.push(null);
            done();
          },
        });
        stream.on('end', () => stream.destroy());
        return stream;
      },
      sftp: async () => {
        const lb = this;
        const handles = new Map<string, { path: string; data: string }>();
        let next = 0;
        return {
          lstat: (_path: string, cb: (error: Error | undefined, stats: unknown) => void) =>
            cb(undefined, { isSymbolicLink: () => false, isDirectory: () => true }),
          mkdir: (_path: string, _attrs: unknown, cb: (error?: Error) => void) => cb(),
          open: (path: string, _flags: string, _attrs: unknown, cb: (error: Error | undefined, handle: Buffer) => void) => {
            const key = String(next++);
            handles.set(key, { path, data: '' });
            cb(undefined, Buffer.from(key));
          },
          write: (handle: Buffer, data: Buffer, offset: number, length: number, _position: number, cb: (error?: Error) => void) => {
            handles.get(String(handle))!.data += data.subarray(offset, offset + length).toString('utf8');
            cb();
          },
          ext_openssh_fsync: (_handle: Buffer, cb: (error?: Error) => void) => cb(),
          close: (_handle: Buffer, cb: (error?: Error) => void) => cb(),
          ext_openssh_rename: (from: string, to: string, cb: (error?: Error) => void) => {
            const entry = [...handles.values()].find((h) => h.path === from)!;
            lb.files.set(to, entry.data);
            cb();
          },
          unlink: (_path: string, cb: (error?: Error) => void) => cb(),
        } as never;
      },
    };
  }
}
