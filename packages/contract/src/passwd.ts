// Accounts as a passwd file lists them (passwd(5)): `name:password:uid:gid:gecos:home:shell`, one a line.
import { readFileSync } from 'node:fs';

/**
 * One line of a passwd file, its fields as written. uid and gid are the text of their fields, not checked to
 * be numbers: what a malformed one means is the caller's decision.
 */
export interface PasswdEntry {
  name: string;
  uid: string;
  gid: string;
  /** The fields after gid are '' when the line ends before them. */
  gecos: string;
  home: string;
  shell: string;
}

/**
 * The entries of a passwd file (default `/etc/passwd`), in the file's order: every line with at least the four
 * fields name, password, uid and gid (shorter lines, blank ones included, are passed over). Throws when the file
 * cannot be read.
 * @example readPasswd().find((entry) => entry.name === 'nobody')?.uid // '65534'
 */
export function readPasswd(path = '/etc/passwd'): PasswdEntry[] {
  const entries: PasswdEntry[] = [];
  for (const line of readFileSync(path, 'utf8').split('\n')) {
    const fields = line.split(':');
    if (fields.length < 4) continue;
    const [name, , uid, gid, gecos = '', home = '', shell = ''] = fields as [string, string, string, string, ...string[]];
    entries.push({ name, uid, gid, gecos, home, shell });
  }
  return entries;
}
