import { shellQuote, type NodeRecord } from '@forklift/contract/lite';
import { onFileEnd, runnerState } from './state.js';

/**
 * The node records read on stdin (kept across --watch re-runs), optionally only one group's.
 * @example const [web] = nodes('web')
 */
export function nodes(group?: string): NodeRecord[] {
  const all = runnerState().nodes.filter((node) => node.state !== 'destroyed');
  return group === undefined ? [...all] : all.filter((node) => node.group === group);
}

/** How a command on a node ended: its exit code (null when killed), stdout and stderr as text. */
export interface CommandResult {
  exitCode: number | null;
  stdout: string;
  stderr: string;
}

/** The part of run-actions' Transport that expect-run uses. */
export interface CommandTransport {
  exec(
    command: string,
    options?: { onStdout?(chunk: Buffer): void; onStderr?(chunk: Buffer): void; signal?: AbortSignal },
  ): Promise<{ exitCode: number | null }>;
  close(): Promise<void>;
}

/** Commands on one node. */
export interface NodeHandle {
  /** The node record. */
  node: NodeRecord;
  /** Run a shell command line (a string) or an argv (quoted for you) on the node over SSH. */
  run(command: string | readonly string[]): Promise<CommandResult>;
}

const CONNECTIONS = Symbol.for('forklift.expect-run.connections');

function connectionsOfFile(): Map<string, Promise<CommandTransport>> {
  const state = runnerState() as unknown as { file?: Record<symbol, Map<string, Promise<CommandTransport>> | undefined> };
  const holder = state.file ?? (globalThis as unknown as Record<symbol, Map<string, Promise<CommandTransport>> | undefined>);
  let map = holder[CONNECTIONS];
  if (!map) {
    map = new Map();
    holder[CONNECTIONS] = map;
    const opened = map;
    onFileEnd(async () => {
      for (const transport of opened.values()) await transport.then((connected) => connected.close()).catch(() => undefined);
      opened.clear();
    });
  }
  return map;
}

/**
 * Commands on a node over SSH, with run-actions' transport (one connection per node per test file,
 * closed when the file is done). A failing command is data: check its exitCode.
 * @example expect(/nginx/, (await onNode(web).run('systemctl is-active nginx')).stdout)
 */
export function onNode(node: NodeRecord): NodeHandle {
  return {
    node,
    async run(command) {
      const line = typeof command === 'string' ? command : command.map((word) => shellQuote(word)).join(' ');
      const connections = connectionsOfFile();
      let transport = connections.get(node.id);
      if (!transport) {
        // loaded on first use: ssh2 is not needed by test files that never reach a node
        transport = import('@forklift/run-actions').then(({ sshTransport }) => sshTransport(node));
        connections.set(node.id, transport);
        transport.catch(() => connections.delete(node.id));
      }
      const connected = await transport;
      const stdout: Buffer[] = [];
      const stderr: Buffer[] = [];
      const { exitCode } = await connected.exec(line, { onStdout: (chunk) => stdout.push(chunk), onStderr: (chunk) => stderr.push(chunk) });
      return { exitCode, stdout: Buffer.concat(stdout).toString('utf8'), stderr: Buffer.concat(stderr).toString('utf8') };
    },
  };
}

/** An HTTP response as plain data, easy to check with `inObj`/`moreOf`. */
export interface HttpResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/**
 * Fetch `path` from a node's address on `port` (plain HTTP) and return status, headers and body.
 * @example expect(inObj({ status: 200 }), http(web, 80, '/health'))
 */
export async function http(node: NodeRecord, port: number, path = '/', init: RequestInit = {}): Promise<HttpResponse> {
  const host = node.address.includes(':') ? `[${node.address}]` : node.address;
  const response = await fetch(`http://${host}:${port}${path.startsWith('/') ? path : '/' + path}`, { redirect: 'manual', ...init });
  return { status: response.status, headers: Object.fromEntries(response.headers), body: await response.text() };
}
