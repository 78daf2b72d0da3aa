import { createHash, createHmac } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';

/** A host public key: its algorithm name and its wire-format blob. */
export interface HostKey {
  type: string;
  blob: Buffer;
}

/** The OpenSSH SHA256 fingerprint of a key blob, e.g. `SHA256:abc...` (no padding). */
export function fingerprintOf(blob: Buffer): string {
  return 'SHA256:' + createHash('sha256').update(blob).digest('base64').replace(/=+$/, '');
}

/** The algorithm name inside a wire-format key blob (its first SSH string). */
export function keyTypeOf(blob: Buffer): string {
  if (blob.length < 4) return '';
  const length = blob.readUInt32BE(0);
  return blob.subarray(4, 4 + length).toString('latin1');
}

/**
 * Parse a pinned host key: `ssh-ed25519 AAAA...` (an optional comment is ignored) or a bare
 * `SHA256:...` fingerprint. Returns undefined when it is neither.
 * @example parsePinnedKey('ssh-ed25519 AAAAC3Nza...')
 */
export function parsePinnedKey(text: string): { key?: HostKey; fingerprint?: string } | undefined {
  const trimmed = text.trim();
  if (/^SHA256:[A-Za-z0-9+/]+=*$/.test(trimmed)) return { fingerprint: trimmed.replace(/=+$/, '') };
  const [type, base64] = trimmed.split(/\s+/);
  if (!type || !base64 || !/^[A-Za-z0-9+/]+=*$/.test(base64)) return undefined;
  const blob = Buffer.from(base64, 'base64');
  if (keyTypeOf(blob) !== type) return undefined;
  return { key: { type, blob } };
}

/** Whether the presented key blob is the pinned one. */
export function matchesPinned(pinned: { key?: HostKey; fingerprint?: string }, presented: Buffer): boolean {
  if (pinned.key) return pinned.key.blob.equals(presented);
  return pinned.fingerprint === fingerprintOf(presented);
}

/** The name a host has in known_hosts: `host` on port 22, else `[host]:port`. */
export function knownHostsName(host: string, port: number): string {
  return port === 22 ? host : `[${host}]:${port}`;
}

function patternMatches(pattern: string, name: string): boolean {
  if (pattern.startsWith('|1|')) {
    const [salt, hash] = pattern.slice(3).split('|');
    if (!salt || !hash) return false;
    const digest = createHmac('sha1', Buffer.from(salt, 'base64')).update(name).digest('base64');
    return digest === hash;
  }
  const regex = new RegExp(
    '^' +
      pattern
        .replace(/[.+^${}()|[\]\\]/g, '\\$&')
        .replace(/\*/g, '.*')
        .replace(/\?/g, '.') +
      '$',
    'i',
  );
  return regex.test(name);
}

/**
 * The host keys that known_hosts text lists for host:port (hashed `|1|` entries, `[host]:port`,
 * comma lists, wildcards and `!` negation understood). `@revoked` keys are returned separately;
 * `@cert-authority` lines are ignored.
 * @example hostKeysFromKnownHosts(text, '10.0.0.5', 2222)
 */
export function hostKeysFromKnownHosts(text: string, host: string, port: number): { keys: HostKey[]; revoked: HostKey[] } {
  const name = knownHostsName(host, port);
  const keys: HostKey[] = [];
  const revoked: HostKey[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (!line || line.startsWith('#')) continue;
    let fields = line.split(/\s+/);
    let marker: string | undefined;
    if (fields[0]!.startsWith('@')) {
      marker = fields[0];
      fields = fields.slice(1);
    }
    if (marker === '@cert-authority') continue;
    const [patterns, type, base64] = fields;
    if (!patterns || !type || !base64) continue;
    let matched = false;
    let negated = false;
    for (const pattern of patterns.split(',')) {
      if (pattern.startsWith('!')) {
        if (patternMatches(pattern.slice(1), name)) negated = true;
      } else if (patternMatches(pattern, name)) matched = true;
    }
    if (!matched || negated) continue;
    const parsed = parsePinnedKey(`${type} ${base64}`);
    if (!parsed?.key) continue;
    (marker === '@revoked' ? revoked : keys).push(parsed.key);
  }
  return { keys, revoked };
}

/** The user's known_hosts files: ~/.ssh/known_hosts and ~/.ssh/known_hosts2 (HOME from env). */
export function defaultKnownHostsFiles(env: Record<string, string | undefined> = process.env): string[] {
  const home = env.HOME || homedir();
  return [join(home, '.ssh', 'known_hosts'), join(home, '.ssh', 'known_hosts2')];
}

/** Read the known_hosts files that exist and return the keys they list for host:port. */
export async function knownHostKeys(files: string[], host: string, port: number): Promise<{ keys: HostKey[]; revoked: HostKey[] }> {
  const keys: HostKey[] = [];
  const revoked: HostKey[] = [];
  for (const file of files) {
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch {
      continue;
    }
    const found = hostKeysFromKnownHosts(text, host, port);
    keys.push(...found.keys);
    revoked.push(...found.revoked);
  }
  return { keys, revoked };
}
