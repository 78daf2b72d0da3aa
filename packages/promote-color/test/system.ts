// A real blue/green system on local nspawn nodes for promote-color's tests and bench: an LB converged
// with the haproxy crate (app "shop"), one web node per color running a minimal Node HTTP app on :80
// (the controller's own Node 20 binary, copied in), and a wrk load generator on the host.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { NodeRecord } from '@forklift/contract';
import { provisionNodes } from '@forklift/provision-node';
import { sshTransport } from '@forklift/run-actions';
import { runBinary } from '@forklift/testkit';

export const APP = 'shop';
const HERE = import.meta.dirname;
export const LB_SPEC = join(HERE, 'fixtures', 'groups', 'lb');
const WRK_SCRIPT = join(HERE, 'fixtures', 'wrk-summary.lua');

const GROUPS = [
  { group: 'lb', roles: ['lb'] },
  { group: 'blue-web', color: 'blue', roles: ['web'] },
  { group: 'green-web', color: 'green', roles: ['web'] },
] as const;

export interface System {
  home: string;
  env: Record<string, string>;
  nodes: NodeRecord[];
  lb: NodeRecord;
  blue: NodeRecord;
  green: NodeRecord;
  /** Every node record as NDJSON, for stdin. */
  stdin: string;
}

/** Run a command on a node as root over SSH (pinned host key); stdout, or an Error with stderr. */
export async function sh(target: NodeRecord, command: string, stdin?: string | Buffer): Promise<string> {
  const transport = await sshTransport(target);
  try {
    let out = '';
    let err = '';
    const result = await transport.exec(command, { stdin, onStdout: (c) => (out += c), onStderr: (c) => (err += c) });
    if (result.exitCode !== 0) throw new Error(`${target.id}: ${command.slice(0, 80)}: exit ${result.exitCode}: ${err.trim()}`);
    return out;
  } finally {
    await transport.close();
  }
}

/** HAProxy's runtime API on the LB (one line of commands). */
export function haproxyApi(lb: NodeRecord, line: string): Promise<string> {
  return sh(lb, 'socat -t 10 stdio unix-connect:/run/haproxy/admin.sock', `${line}\n`);
}

/** The weight HAProxy gives each web server in the live backend now. */
export async function liveWeights(system: System): Promise<{ blue: number; green: number }> {
  const out = await haproxyApi(system.lb, `get weight ${APP}/${system.blue.id}; get weight ${APP}/${system.green.id}`);
  const [blue, green] = out
    .trim()
    .split('\n')
    .filter(Boolean)
    .map((line) => Number(line.split(' ')[0]));
  return { blue: blue!, green: green! };
}

const UNIT = (color: string) => `[Unit]
Description=color app (promote-color tests)
[Service]
Environment=COLOR=${color} PORT=80
ExecStart=/usr/local/bin/node /opt/color-app/color-app.mjs
Restart=on-failure
RuntimeDirectory=color-app
RuntimeDirectoryPreserve=yes
[Install]
WantedBy=multi-user.target
`;

/** Wait until HAProxy's checks see every web server UP. */
export async function waitUp(system: System, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const stat = await haproxyApi(system.lb, 'show stat');
    const rows = stat.split('\n').map((line) => line.split(','));
    const checked = rows.filter((f) => f[0] === `${APP}_blue` || f[0] === `${APP}_green`).filter((f) => f[1] !== 'BACKEND');
    // UP, and its last check passed (check_status L7OK): a server that is still UP after a failed check
    // ("UP 1/2", L7STS) would fail promote-color's gate a moment later
    if (checked.length === 2 && checked.every((f) => f[17] === 'UP' && /OK$/.test(f[36] ?? ''))) return;
    if (Date.now() > deadline)
      throw new Error(`web servers not UP in HAProxy's checks after ${timeoutMs} ms: ${checked.map((f) => `${f[1]} ${f[17]} ${f[36]}`).join(', ')}`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

/**
 * Provision the LB and one web node per color, start the app on the web nodes, converge the LB with the
 * haproxy crate. `log` gets progress lines.
 */
export async function startSystem(name: string, log: (line: string) => void): Promise<System> {
  const home = mkdtempSync(join(tmpdir(), `${name}-`));
  const env = { FORKLIFT_HOME: home, FORKLIFT_IMAGE_CACHE: process.env.FORKLIFT_IMAGE_CACHE || '/var/cache/forklift/images' };
  const nodes: NodeRecord[] = [];
  for (const { group, ...labels } of GROUPS) {
    nodes.push(...(await provisionNodes({ service: 'local', count: 1, group, ...labels, roles: [...labels.roles], home, env, log })));
  }
  const [lb, blue, green] = nodes as [NodeRecord, NodeRecord, NodeRecord];
  const system: System = { home, env, nodes, lb, blue, green, stdin: nodes.map((n) => JSON.stringify(n)).join('\n') + '\n' };
  const nodeBinary = readFileSync(process.execPath);
  const app = readFileSync(join(HERE, 'app', 'color-app.mjs'));
  await Promise.all(
    [blue, green].map(async (web) => {
      await sh(web, 'mkdir -p /usr/local/bin /opt/color-app && cat > /usr/local/bin/node && chmod 755 /usr/local/bin/node', nodeBinary);
      await sh(web, 'cat > /opt/color-app/color-app.mjs', app);
      await sh(web, 'cat > /etc/systemd/system/color-app.service && systemctl daemon-reload && systemctl enable --now color-app', UNIT(web.color!));
    }),
  );
  log('web nodes serve the color app; converging the LB with the haproxy crate');
  const converge = await runBinary('run-actions', [LB_SPEC], { stdin: system.stdin, timeoutMs: 300_000 });
  if (converge.exitCode !== 0) throw new Error(`converging the LB failed (exit ${converge.exitCode}): ${converge.stderr.slice(-2000)}`);
  await waitUp(system);
  return system;
}

/** Destroy the nodes and the home (safe when startSystem failed half-way). */
export async function stopSystem(system: { home: string; env: Record<string, string> } | undefined): Promise<void> {
  if (!system) return;
  for (const { group } of GROUPS) {
    await provisionNodes({ service: 'local', count: 0, group, home: system.home, env: system.env, log: () => undefined }).catch(() => undefined);
  }
  rmSync(system.home, { recursive: true, force: true });
}

/** What wrk reported. */
export interface LoadResult {
  requests: number;
  durationUs: number;
  /** Responses with a status above 399 (wrk's "Non-2xx or 3xx"; the app never answers 3xx). */
  non2xx: number;
  connect: number;
  read: number;
  write: number;
  timeout: number;
  p99Us: number;
}

/** A running wrk against a URL of the project's own LB node: bounded by `seconds`. */
export function startLoad(
  url: string,
  options: { connections: number; seconds: number; threads?: number },
): { result: Promise<LoadResult>; pid: number | undefined } {
  const args = ['-t', String(options.threads ?? 2), '-c', String(options.connections), '-d', `${options.seconds}s`, '--timeout', '5s', '-s', WRK_SCRIPT, url];
  const child = spawn('wrk', args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (text: string) => (stdout += text));
  child.stderr.setEncoding('utf8').on('data', (text: string) => (stderr += text));
  const result = new Promise<LoadResult>((resolve, reject) => {
    const guard = setTimeout(() => child.kill('SIGKILL'), (options.seconds + 30) * 1000);
    child.once('error', (error) => {
      clearTimeout(guard);
      reject(new Error(`wrk could not start (${(error as NodeJS.ErrnoException).code}): apt-get install wrk`));
    });
    child.once('close', (code) => {
      clearTimeout(guard);
      const line = stdout
        .trim()
        .split('\n')
        .findLast((l) => l.startsWith('{'));
      if (code !== 0 || !line) return reject(new Error(`wrk exit ${code}: ${stderr.trim() || stdout.trim()}`));
      resolve(JSON.parse(line) as LoadResult);
    });
  });
  return { result, pid: child.pid };
}

/** Socket errors wrk saw (connect, read, write, timeout). */
export function socketErrors(load: LoadResult): number {
  return load.connect + load.read + load.write + load.timeout;
}
