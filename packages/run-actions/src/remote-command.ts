import { randomBytes } from 'node:crypto';
import { NONCE_PATTERN, shellQuote, UPLOAD_NAME_PATTERN } from '@forklift/contract';

/**
 * The wrapper every phase script runs under (POSIX sh; argv: SCRIPT_BYTES BLOB_DIR [NAME:BYTES]...). Its stdin
 * is the run nonce on one line, then exactly SCRIPT_BYTES of script, then the sensitive uploads in argv order.
 * It reads the nonce into a variable (never argv, env or a file), the payload into a private directory (0700,
 * under /run when it can: tmpfs, so secrets never touch a disk), and runs the script as `sh -s` in its own
 * session (setsid) with `fl_nonce=`, `fl_up=` (the uploads) and `fl_blobs=` (the node's cache) assignments
 * written before the script on sh's stdin. It keeps reading stdin: when stdin ends before the script does
 * (the caller was interrupted, the channel or the connection closed) it kills the script's whole process
 * group, so nothing is left running on the node, and sends the output the running action had so far (framed like
 * fl_end does, for the action id `-`: the one running). Daemons the script starts leave the group and survive.
 * The private directory (the script's fl_tmp), with the uploads, is removed when the wrapper exits.
 */
export const WRAPPER = String.raw`umask 077
IFS= read -r n || exit 125
case $n in '' | *[!A-Za-z0-9_-]*) echo "forklift-run: no valid nonce on stdin" >&2; exit 125 ;; esac
d=
for b in /run "${'$'}{TMPDIR:-/tmp}"; do
  if [ -d "$b" ] && [ -w "$b" ] && d=$(mktemp -d "$b/forklift-run.XXXXXX" 2>/dev/null); then break; fi
  d=
done
case $d in '' | *"'"*) echo "forklift-run: cannot make a private directory" >&2; exit 125 ;; esac
trap 'rm -rf "$d"' EXIT
s=$1
blobs=$2
shift 2
if [ "$#" -eq 0 ]; then
  head -c "$s" >"$d/script" || exit 125
else
  t=$s
  for u in "$@"; do t=$((t + ${'$'}{u#*:})); done
  head -c "$t" >"$d/in" || exit 125
  [ "$(wc -c <"$d/in")" -eq "$t" ] || { echo "forklift-run: the uploads arrived truncated" >&2; exit 125; }
  mkdir "$d/up"
  head -c "$s" "$d/in" >"$d/script"
  o=$((s + 1))
  for u in "$@"; do
    tail -c "+$o" "$d/in" | head -c "${'$'}{u#*:}" >"$d/up/${'$'}{u%%:*}"
    o=$((o + ${'$'}{u#*:}))
  done
  rm -f "$d/in"
fi
exec 3<&0 </dev/null
pre() {
  printf 'fl_nonce=%s\n' "$n"
  printf "fl_tmp='%s'\n" "$d"
  if [ -d "$d/up" ]; then printf "fl_up='%s'\n" "$d/up"; fi
  if [ "$blobs" != - ]; then printf "fl_blobs='%s'\n" "$blobs"; fi
  cat "$d/script"
}
if command -v setsid >/dev/null 2>&1; then
  pre 3<&- | setsid sh -s 3<&- &
else
  pre 3<&- | sh -s 3<&- &
fi
job=$!
(
  while IFS= read -r _ <&3; do :; done
  : >"$d/aborted"
  kill -TERM "-$job" "$job" 2>/dev/null
  sleep 1
  kill -KILL "-$job" "$job" 2>/dev/null
  for f in o:stdout e:stderr; do
    if [ -s "$d/${'$'}{f%%:*}" ]; then
      printf '::forklift:%s:-:%s\n' "$n" "${'$'}{f#*:}"
      sed 's/^/|/' "$d/${'$'}{f%%:*}"
      printf '\n'
    fi
  done
) 2>/dev/null &
dog=$!
exec 3<&-
wait "$job"
rc=$?
if [ -e "$d/aborted" ]; then wait "$dog"; else kill "$dog" 2>/dev/null; fi
exit "$rc"
`;

/** A sensitive upload as the wrapper's argv names it (NAME:BYTES); its bytes follow the script on stdin. */
export interface WrapperUpload {
  name: string;
  bytes: number;
}

/** A fresh per-run nonce for the marker protocol (letters and digits only). */
export function newNonce(): string {
  return randomBytes(12).toString('hex');
}

/** Paths the wrapper accepts for the blob cache (no quoting surprises in the preamble it writes). */
export const BLOB_DIR_PATTERN = /^\/[A-Za-z0-9._/-]*$/;

/**
 * The command line that runs one phase script on a node: the wrapper under `sh -c`, through `sudo -n` when
 * the login user is not root (never prompting for a password). Only sizes, names and the blob directory are on
 * it: the nonce and every byte of script and upload travel on stdin (see `wrapperInput`).
 * @example remoteCommand(Buffer.byteLength(script), { sudo: node.user !== 'root' })
 */
export function remoteCommand(scriptBytes: number, options: { sudo: boolean; blobDir?: string; uploads?: readonly WrapperUpload[] }): string {
  if (options.blobDir !== undefined && !BLOB_DIR_PATTERN.test(options.blobDir)) throw new Error(`blob directory ${JSON.stringify(options.blobDir)} must be an absolute path of letters, digits, . _ / -`);
  const uploads = (options.uploads ?? []).map((upload) => {
    if (!UPLOAD_NAME_PATTERN.test(upload.name) || upload.name === '.' || upload.name === '..' || !Number.isSafeInteger(upload.bytes) || upload.bytes < 0) {
      throw new Error(`bad upload ${JSON.stringify(upload)}`);
    }
    return `${upload.name}:${upload.bytes}`;
  });
  const command = `sh -c ${shellQuote(WRAPPER)} forklift-run ${scriptBytes} ${shellQuote(options.blobDir ?? '-')}${uploads.map((word) => ` ${word}`).join('')}`;
  return options.sudo ? `sudo -n ${command}` : command;
}

/** The wrapper's stdin: the nonce line, the script, then each sensitive upload's bytes in order. */
export function wrapperInput(nonce: string, script: Uint8Array, uploads: readonly Uint8Array[] = []): Buffer {
  if (!NONCE_PATTERN.test(nonce)) throw new Error('nonce must match [A-Za-z0-9_-]+');
  return Buffer.concat([Buffer.from(`${nonce}\n`), script, ...uploads]);
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
