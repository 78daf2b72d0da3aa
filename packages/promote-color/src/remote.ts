// The sh scripts promote-color runs on an LB node (as root: through `sudo -n` for other logins). Values
// reach them as positional arguments (shellQuote) or inside quoted here-documents whose delimiter carries
// a random nonce; every file is written through a temporary file in the same directory and renamed.
import { randomBytes } from 'node:crypto';
import { shellQuote } from '@forklift/contract/lite';
import { ADMIN_SOCKET, PROMOTE_DIR } from './layout.js';

/** Helpers every script shares: fail, the runtime API call, the atomic write. */
const PRELUDE = `set -eu
umask 022
dir=${PROMOTE_DIR}
sock=${ADMIN_SOCKET}
fail() { printf '%s\\n' "$*" >&2; exit 1; }
api() { socat -t 10 stdio "unix-connect:$sock"; }
# put PATH: stdin -> PATH through a temporary file in its directory (never follows a symlink: mktemp
# creates a fresh file, mv replaces the name itself)
put() {
  put_tmp=$(mktemp "$1.XXXXXX")
  cat > "$put_tmp"
  chmod 0644 "$put_tmp"
  mv -f "$put_tmp" "$1"
}
statedir() {
  if [ -L "$dir" ]; then fail "$dir is a symlink: refusing to write promote-color state through it"; fi
  mkdir -p "$dir"
}
`;

/**
 * Preflight, read-only: are socat and the admin socket there; the JSON state; `show stat`.
 * Prints `::promote:missing:WHAT` and stops when something is missing.
 */
export function preflightScript(app: string): string {
  return `${PRELUDE}
main() {
  app=$1
  for tool in socat flock mktemp; do
    if ! command -v "$tool" >/dev/null 2>&1; then echo "::promote:missing:$tool"; exit 0; fi
  done
  if [ ! -S "$sock" ]; then echo "::promote:missing:socket"; exit 0; fi
  if ! stat=$(echo "show stat" | api 2>/dev/null) || [ -z "$stat" ]; then echo "::promote:missing:answer"; exit 0; fi
  echo "::promote:state"
  if [ -f "$dir/$app.json" ] && [ ! -L "$dir/$app.json" ]; then cat "$dir/$app.json"; echo; fi
  echo "::promote:stat"
  printf '%s\n' "$stat"
}
main ${shellQuote(app)}
`;
}

/**
 * Take the app's lock on the LB node and hold it while the channel's stdin stays open (flock(1) on fd 9;
 * the kernel frees it when the run or its connection goes away). Prints `::promote:locked`, or
 * `::promote:busy` followed by the holder's description and exits 75.
 */
export function lockScript(app: string, owner: string): string {
  return `${PRELUDE}
main() {
  app=$1
  owner=$2
  statedir
  lock="$dir/$app.lock"
  if [ -L "$lock" ] || [ -L "$lock.owner" ]; then fail "$lock is a symlink: refusing to lock through it"; fi
  exec 9>>"$lock"
  if ! flock -n 9; then
    echo "::promote:busy"
    cat "$lock.owner" 2>/dev/null || true
    exit 75
  fi
  printf '%s\\n' "$owner" | put "$lock.owner"
  echo "::promote:locked"
  # hold the lock until promote-color closes our stdin (or its connection drops)
  cat >/dev/null || true
  rm -f "$lock.owner"
}
main ${shellQuote(app)} ${shellQuote(owner)}
`;
}

/** Files one apply writes besides the server state (path -> content). */
export interface StateFiles {
  [path: string]: string;
}

function heredoc(content: string, delimiter: string): string {
  const body = content.endsWith('\n') ? content : `${content}\n`;
  if (body.split('\n').includes(delimiter)) throw new Error('here-document delimiter collision');
  return `<<'${delimiter}'\n${body}${delimiter}\n`;
}

/**
 * Write state files on the LB: each through a new temporary file in its directory (created with O_EXCL by
 * the shell's noclobber, so never through a symlink; umask 022 gives 0644) renamed over the old name.
 * The whole script is parsed before anything runs (one function called on its last line), so a cut
 * connection writes all or nothing.
 */
export function persistScript(files: StateFiles): string {
  const delimiter = `PROMOTE_${randomBytes(9).toString('hex')}`;
  let body = '  statedir\n';
  for (const [path, content] of Object.entries(files)) body += `  write ${shellQuote(path)} ${heredoc(content, delimiter)}`;
  return `${PRELUDE}
# write PATH: stdin -> PATH.tmp.PID (exclusive create) -> PATH
write() {
  write_tmp="$1.tmp.$$"
  rm -f "$write_tmp"
  cat > "$write_tmp"
  mv -f "$write_tmp" "$1"
}
main() {
  set -C
${body}}
main
`;
}

/**
 * GET /healthz (or PATH) of each `address:port` from the LB node (so it works where the controller cannot
 * reach the servers): one line `ADDRESS STATUS` per server, STATUS the HTTP status or 000 when none came.
 * `shut-none`: socat must not half-close the connection once the request is written — a proxy such as
 * nginx takes the client's FIN for an abort and drops a proxied request without answering.
 */
export function healthScript(targets: readonly string[], path: string): string {
  return `${PRELUDE}
main() {
  path=$1
  shift
  for target in "$@"; do
    host=\${target%:*}
    status=$(printf 'GET %s HTTP/1.0\\r\\nHost: %s\\r\\nUser-Agent: promote-color\\r\\nConnection: close\\r\\n\\r\\n' "$path" "$host" |
      timeout 10 socat -t 5 - "TCP:$target,connect-timeout=3,shut-none" 2>/dev/null | head -n 1 | cut -d' ' -f2) || true
    case $status in
      [0-9][0-9][0-9]) ;;
      *) status=000 ;;
    esac
    echo "$target $status"
  done
}
main ${[path, ...targets].map((word) => shellQuote(word)).join(' ')}
`;
}

/** Split a script's stdout at its `::promote:NAME` marker lines. */
export function sections(stdout: string): Map<string, string> {
  const out = new Map<string, string>();
  let name = '';
  let lines: string[] = [];
  for (const line of stdout.split('\n')) {
    const match = /^::promote:([a-z:]+)$/.exec(line);
    if (match) {
      out.set(name, lines.join('\n'));
      name = match[1]!;
      lines = [];
    } else lines.push(line);
  }
  out.set(name, lines.join('\n'));
  return out;
}
