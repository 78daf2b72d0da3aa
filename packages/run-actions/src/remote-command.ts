import { randomBytes } from 'node:crypto';
import { shellQuote } from '@forklift/contract';

/**
 * The wrapper every phase script runs under (POSIX sh, argv: LENGTH NONCE). It reads exactly LENGTH
 * bytes of script from stdin into a private temp file, runs it as `sh -s -- NONCE` in its own
 * session (setsid), and keeps reading stdin: when stdin ends before the script does (the caller was
 * interrupted, the channel or the connection closed) it kills the script's whole process group, so
 * nothing is left running on the node. Daemons the script starts leave the group and survive.
 */
export const WRAPPER = String.raw`d=$(mktemp -d "${'$'}{TMPDIR:-/tmp}/forklift-run.XXXXXX") || exit 125
trap 'rm -rf "$d"' EXIT
head -c "$1" >"$d/script" || exit 125
exec 3<&0 </dev/null
if command -v setsid >/dev/null 2>&1; then
  setsid sh -s -- "$2" <"$d/script" 3<&- &
else
  sh -s -- "$2" <"$d/script" 3<&- &
fi
job=$!
(
  while IFS= read -r _ <&3; do :; done
  : >"$d/aborted"
  kill -TERM "-$job" "$job" 2>/dev/null
  sleep 1
  kill -KILL "-$job" "$job" 2>/dev/null
) >/dev/null 2>&1 &
dog=$!
exec 3<&-
wait "$job"
rc=$?
if [ -e "$d/aborted" ]; then wait "$dog"; else kill "$dog" 2>/dev/null; fi
exit "$rc"
`;

/** A fresh per-run nonce for the marker protocol (letters and digits only). */
export function newNonce(): string {
  return randomBytes(12).toString('hex');
}

/**
 * The command line that runs one phase script on a node: the wrapper under `sh -c`, through
 * `sudo -n` when the login user is not root (never prompting for a password).
 * @example remoteCommand(Buffer.byteLength(script), nonce, { sudo: node.user !== 'root' })
 */
export function remoteCommand(scriptBytes: number, nonce: string, options: { sudo: boolean }): string {
  const command = `sh -c ${shellQuote(WRAPPER)} forklift-run ${scriptBytes} ${shellQuote(nonce)}`;
  return options.sudo ? `sudo -n ${command}` : command;
}

/** Whether stderr text is sudo refusing to run without a password or a rule. */
export function isSudoRefusal(stderr: string): boolean {
  return /sudo: (a password is required|a terminal is required|no tty present)|is not in the sudoers file|is not allowed to execute|may not run sudo/.test(stderr);
}

/** The message for a node whose login user cannot use passwordless sudo. */
export function sudoMessage(nodeId: string, user: string, stderr: string): string {
  const said = stderr.trim().split('\n').filter((line) => /sudo/.test(line)).pop() ?? stderr.trim();
  return `node ${nodeId}: user ${user} cannot run commands as root without a password (${said}); allow it with a line "${user} ALL=(ALL) NOPASSWD: ALL" in /etc/sudoers.d/ on the node, or log in as root`;
}
