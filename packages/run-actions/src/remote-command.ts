import { randomBytes } from 'node:crypto';
import { NONCE_PATTERN, shellQuote, UPLOAD_NAME_PATTERN } from '@forklift/contract/lite';

/**
 * The OS facts, as KEY=VALUE lines (POSIX sh, builtins only where the node allows: os-release sourced in a
 * subshell, the architecture and kernel release read from /proc, /proc/filesystems read with `read`; `uname` only
 * when /proc lacks them): id, version_id (os-release), pm (the first package manager found), init (systemd,
 * openrc or sysvinit), arch, and nfs (`kernel` when the running kernel has an NFS client: nfs4 in
 * /proc/filesystems or an fs/nfs module for this kernel; else `none` — containers share the host's kernel).
 */
export const FACTS_SCRIPT = String.raw`(
  if [ -r /etc/os-release ]; then . /etc/os-release; elif [ -r /usr/lib/os-release ]; then . /usr/lib/os-release; fi
  printf 'id=%s\nversion_id=%s\n' "${'$'}{ID:-}" "${'$'}{VERSION_ID:-}"
)
for f_pm in apt-get dnf yum apk zypper pacman; do
  if command -v "$f_pm" >/dev/null 2>&1; then printf 'pm=%s\n' "$f_pm"; break; fi
done
if [ -d /run/systemd/system ]; then echo init=systemd
elif command -v openrc >/dev/null 2>&1 || command -v rc-service >/dev/null 2>&1; then echo init=openrc
else echo init=sysvinit
fi
f_a=
if [ -r /proc/sys/kernel/arch ]; then read -r f_a </proc/sys/kernel/arch || f_a=; fi
if [ -z "$f_a" ]; then f_a=$(uname -m); fi
printf 'arch=%s\n' "$f_a"
f_r=
if [ -r /proc/sys/kernel/osrelease ]; then read -r f_r </proc/sys/kernel/osrelease || f_r=; fi
if [ -z "$f_r" ]; then f_r=$(uname -r); fi
f_nfs=none
if [ -r /proc/filesystems ]; then
  while read -r f_x f_y; do
    if [ "$f_x" = nfs4 ] || [ "$f_y" = nfs4 ]; then f_nfs=kernel; break; fi
  done </proc/filesystems
fi
if [ "$f_nfs" = none ] && [ -d "/lib/modules/$f_r/kernel/fs/nfs" ]; then f_nfs=kernel; fi
printf 'nfs=%s\n' "$f_nfs"
`;

/** The line that ends the facts the wrapper prints before it reads its header (`forklift-run facts`). */
export const FACTS_END = 'end-of-facts';

/**
 * The wrapper every phase script runs under (POSIX sh; argv: `[facts]`). With `facts` it first prints the OS facts
 * (FACTS_SCRIPT) and a line `end-of-facts` on stdout, so the first phase of a node also gathers its facts, in the
 * same round trip. Then it reads its stdin: one header line `NONCE SCRIPT_BYTES BLOB_DIR [NAME:BYTES]...` (a
 * script of 0 bytes: nothing to run, exit 0), exactly SCRIPT_BYTES of script, then the sensitive uploads in header
 * order. It keeps the nonce in a variable (never argv, env or a file), the payload in a private directory (0700,
 * under /run when it can: tmpfs, so secrets never touch a disk), and runs the script in its own session (setsid)
 * as `sh -s` fed `fl_nonce=`, `fl_tmp=`, `fl_up=` (the uploads), `fl_blobs=` (the node's cache) assignments and
 * `. SCRIPT` on a pipe. It keeps reading stdin: when stdin ends before the script does (the caller was
 * interrupted, the channel or the connection closed) it kills the script's whole process group, so nothing is left
 * running on the node, and sends the output the running action had so far (framed like fl_end does, for the
 * action id `-`: the one running). Daemons the script starts leave the group and survive. The private directory
 * (the script's fl_tmp), with the uploads, is removed when the wrapper exits.
 * Processes per run: mktemp, head, the pipe's writer (a fork), setsid + sh, the watchdog (a fork), rm.
 */
export const WRAPPER = String.raw`umask 077
if [ "${'$'}{1:-}" = facts ]; then
${FACTS_SCRIPT}echo ${FACTS_END}
fi
IFS=' ' read -r n s blobs ups || exit 125
case $n in '' | *[!A-Za-z0-9_-]*) echo "forklift-run: no valid nonce on stdin" >&2; exit 125 ;; esac
case $s in '' | *[!0-9]*) echo "forklift-run: no valid script length on stdin" >&2; exit 125 ;; esac
case $blobs in - | /*) ;; *) echo "forklift-run: no valid blob directory on stdin" >&2; exit 125 ;; esac
case $blobs in *[!A-Za-z0-9._/-]*) echo "forklift-run: no valid blob directory on stdin" >&2; exit 125 ;; esac
if [ "$s" -eq 0 ]; then exit 0; fi
set -f
# shellcheck disable=SC2086 # NAME:BYTES words, split on purpose (globbing off)
set -- $ups
set +f
t=$s
for u in "$@"; do
  case ${'$'}{u%%:*} in '' | . | .. | *[!A-Za-z0-9._-]*) echo "forklift-run: bad upload name on stdin" >&2; exit 125 ;; esac
  case ${'$'}{u#*:} in '' | *[!0-9]*) echo "forklift-run: bad upload size on stdin" >&2; exit 125 ;; esac
  t=$((t + ${'$'}{u#*:}))
done
d=
for b in /run "${'$'}{TMPDIR:-/tmp}"; do
  if [ -d "$b" ] && [ -w "$b" ] && d=$(mktemp -d "$b/forklift-run.XXXXXX" 2>/dev/null); then break; fi
  d=
done
case $d in '' | *"'"*) echo "forklift-run: cannot make a private directory" >&2; exit 125 ;; esac
trap 'rm -rf "$d"' EXIT
if [ "$#" -eq 0 ]; then
  head -c "$s" >"$d/script" || exit 125
else
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
  printf ". '%s'\n" "$d/script"
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

/** A sensitive upload as the wrapper's header names it (NAME:BYTES); its bytes follow the script on stdin. */
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
 * the login user is not root (never prompting for a password); `facts: true` has it print the node's OS facts
 * first. Nothing about the run is on it: the nonce, sizes, names and every byte of script and upload travel on
 * stdin (see `wrapperInput`).
 * @example remoteCommand({ sudo: node.user !== 'root' })
 */
export function remoteCommand(options: { sudo: boolean; facts?: boolean }): string {
  const command = `sh -c ${shellQuote(WRAPPER)} forklift-run${options.facts ? ' facts' : ''}`;
  return options.sudo ? `sudo -n ${command}` : command;
}

/**
 * The wrapper's stdin: the header line (nonce, script length, blob directory or `-`, NAME:BYTES of each sensitive
 * upload), the script, then each sensitive upload's bytes in order.
 * @example wrapperInput(nonce, Buffer.from(script), { blobDir: '/var/lib/forklift/blobs' })
 */
export function wrapperInput(
  nonce: string,
  script: Uint8Array,
  options: { blobDir?: string; uploads?: ReadonlyArray<{ name: string; bytes: Uint8Array }> } = {},
): Buffer {
  if (!NONCE_PATTERN.test(nonce)) throw new Error('nonce must match [A-Za-z0-9_-]+');
  if (options.blobDir !== undefined && !BLOB_DIR_PATTERN.test(options.blobDir))
    throw new Error(`blob directory ${JSON.stringify(options.blobDir)} must be an absolute path of letters, digits, . _ / -`);
  const uploads = options.uploads ?? [];
  for (const upload of uploads) {
    if (!UPLOAD_NAME_PATTERN.test(upload.name) || upload.name === '.' || upload.name === '..')
      throw new Error(`bad upload name ${JSON.stringify(upload.name)}`);
  }
  const header = [nonce, String(script.length), options.blobDir ?? '-', ...uploads.map((upload) => `${upload.name}:${upload.bytes.length}`)].join(' ');
  return Buffer.concat([Buffer.from(`${header}\n`), script, ...uploads.map((upload) => upload.bytes)]);
}

/** The wrapper's stdin when a node has nothing to run (its facts were all it gave): it exits 0. */
export const NOTHING_TO_RUN = Buffer.from('none 0 -\n');

/** Whether stderr text is sudo refusing to run without a password or a rule. */
export function isSudoRefusal(stderr: string): boolean {
  return /sudo: (a password is required|a terminal is required|no tty present)|is not in the sudoers file|is not allowed to execute|may not run sudo/.test(
    stderr,
  );
}

/** The message for a node whose login user cannot use passwordless sudo. */
export function sudoMessage(nodeId: string, user: string, stderr: string): string {
  const said =
    stderr
      .trim()
      .split('\n')
      .filter((line) => /sudo/.test(line))
      .pop() ?? stderr.trim();
  return `node ${nodeId}: user ${user} cannot run commands as root without a password (${said}); allow it with a line "${user} ALL=(ALL) NOPASSWD: ALL" in /etc/sudoers.d/ on the node, or log in as root`;
}
