/**
 * The sh functions every rendered script defines once, before its blocks (see FRAMEWORK.md).
 * Helpers read the block's `fl_id` and `fl_notify`, the script's `fl_nonce`, `fl_plan`, `fl_state` and `fl_tmp`.
 */
export const PRELUDE = String.raw`fl_mark() {
  printf '::forklift:%s:%s:%s\n' "$fl_nonce" "$1" "$2"
}
fl_begin() {
  fl_mark "$1" begin
  fl_mark "$1" begin >&2
}
fl_end() {
  fl_mark "$1" "exit:$2"
  if [ "$2" -ne 0 ]; then
    fl_status=failed
  elif [ -e "$fl_tmp/changed.$1" ]; then
    fl_status=changed
  else
    fl_status=ok
  fi
  fl_mark "$1" "$fl_status"
  fl_mark "$1" "$fl_status" >&2
  if [ "$2" -ne 0 ]; then exit "$2"; fi
}
fl_done_already() {
  for fl_each in "$@"; do
    fl_begin "$fl_each"
    printf 'forklift: phase already ran once on this node (%s)\n' "$fl_once_flag"
    fl_end "$fl_each" 0
  done
}
fl_apply() {
  [ "$fl_plan" = 0 ]
}
fl_say() {
  printf '%s\n' "$*"
}
fl_fail() {
  printf 'forklift: %s\n' "$*" >&2
  exit 1
}
fl_changed() {
  : >"$fl_tmp/changed.$fl_id"
  for fl_w in $fl_notify; do
    if fl_apply; then
      mkdir -p "$fl_state/pending"
      : >"$fl_state/pending/$fl_w"
    else
      : >"$fl_tmp/pending.$fl_w"
    fi
  done
}
fl_pending() {
  [ -e "$fl_state/pending/$1" ] || [ -e "$fl_tmp/pending.$1" ]
}
fl_pending_clear() {
  if fl_apply; then rm -f "$fl_state/pending/$1"; fi
}
fl_note() {
  : >"$fl_tmp/note.$1"
}
fl_noted() {
  [ -e "$fl_tmp/note.$1" ]
}
fl_diff_begin() {
  fl_mark "$fl_id" diff
}
fl_diff_end() {
  fl_mark "$fl_id" enddiff
}
fl_diff_files() {
  fl_diff_begin
  if command -v diff >/dev/null 2>&1; then
    diff -a -u -L "$3" -L "$3" "$1" "$2" || [ "$?" -eq 1 ]
  else
    printf -- '--- %s\n+++ %s\n@@ content @@\n(diff is not installed on the node)\n' "$3" "$3"
  fi
  fl_diff_end
}
fl_diff_value() {
  fl_diff_begin
  printf -- '--- %s\n+++ %s\n@@ %s @@\n-%s\n+%s\n' "$1" "$1" "$2" "$3" "$4"
  fl_diff_end
}
fl_diff_masked() {
  fl_diff_begin
  printf -- '--- %s\n+++ %s\n@@ content (sensitive) @@\n-***\n+***\n' "$1" "$1"
  fl_diff_end
}
fl_backup() {
  if [ "$4" -eq 0 ] || [ ! -f "$1" ]; then return 0; fi
  mkdir -p "$3"
  fl_n=$4
  rm -f "$2.$fl_n"
  while [ "$fl_n" -gt 1 ]; do
    if [ -e "$2.$((fl_n - 1))" ]; then mv -f "$2.$((fl_n - 1))" "$2.$fl_n"; fi
    fl_n=$((fl_n - 1))
  done
  cp -p "$1" "$2.1"
}
fl_sha256() {
  fl_sum=$(sha256sum <"$1")
  printf '%s\n' "$${''}{fl_sum%% *}"
}
fl_fetch() {
  if command -v curl >/dev/null 2>&1; then
    curl -fsSL -o "$2" "$1"
  elif command -v wget >/dev/null 2>&1; then
    wget -q -O "$2" "$1"
  else
    fl_fail "neither curl nor wget is installed on the node: cannot fetch $1"
  fi
}
fl_readlink() {
  fl_link=$(readlink "$1"; echo .)
  fl_link=$${''}{fl_link%?}
  fl_link=$${''}{fl_link%?}
}
fl_ends_without_newline() {
  [ -s "$1" ] && [ -n "$(tail -c 1 "$1")" ]
}
fl_stat() {
  stat -L -c "$1" "$2"
}
`;
