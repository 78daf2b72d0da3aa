import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '@forklift/testkit';

/** An nginx serving a directory on 127.0.0.1, started by the test and killed by its PID. */
export interface Nginx {
  port: number;
  pid: number;
  stop(): Promise<void>;
}

/**
 * Start /usr/sbin/nginx (one process: no master, no daemon) with its own prefix and config, on a free port. The
 * port is free when chosen but another process may take it before nginx binds it (tests run side by side):
 * then nginx exits with "Address already in use" and it is started again on another port (5 tries).
 */
export async function startNginx(root: string): Promise<Nginx> {
  if (!existsSync('/usr/sbin/nginx')) throw new Error('nginx is not installed: apt-get install nginx');
  for (let attempt = 1; ; attempt++) {
    try {
      return await startNginxOnce(root, await freePort());
    } catch (error) {
      if (!(error instanceof PortTaken) || attempt === 5) throw error;
    }
  }
}

class PortTaken extends Error {}

async function startNginxOnce(root: string, port: number): Promise<Nginx> {
  const prefix = mkdtempSync(join(tmpdir(), 'browser-drive-nginx-'));
  const conf = join(prefix, 'nginx.conf');
  writeFileSync(
    conf,
    `daemon off;
master_process off;
pid ${prefix}/nginx.pid;
error_log ${prefix}/error.log;
events { worker_connections 64; }
http {
  access_log off;
  client_body_temp_path ${prefix}/body;
  proxy_temp_path ${prefix}/proxy;
  fastcgi_temp_path ${prefix}/fastcgi;
  uwsgi_temp_path ${prefix}/uwsgi;
  scgi_temp_path ${prefix}/scgi;
  types { text/html html; }
  server {
    listen 127.0.0.1:${port};
    root ${root};
  }
}
`,
  );
  const child: ChildProcess = spawn('/usr/sbin/nginx', ['-p', prefix, '-c', conf, '-e', join(prefix, 'error.log')], { stdio: 'ignore' });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const stop = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) process.kill(child.pid!, 'SIGTERM');
    await exited;
    rmSync(prefix, { recursive: true, force: true });
  };
  const deadline = Date.now() + 15_000;
  for (;;) {
    // our nginx, not whatever else might answer on that port: the page it serves is the root's index.html
    const up = await fetch(`http://127.0.0.1:${port}/index.html`).then(
      async (response) => response.ok && (await response.text()) === readFileSync(join(root, 'index.html'), 'utf8'),
      () => false,
    );
    if (up) break;
    if (child.exitCode !== null || Date.now() > deadline) {
      const log = existsSync(join(prefix, 'error.log')) ? readFileSync(join(prefix, 'error.log'), 'utf8') : '';
      await stop();
      if (/Address already in use/.test(log)) throw new PortTaken(`127.0.0.1:${port} was taken before nginx bound it`);
      throw new Error(`nginx did not come up on 127.0.0.1:${port}: ${log.trim()}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return { port, pid: child.pid!, stop };
}
