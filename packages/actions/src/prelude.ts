/**
 * The sh functions every rendered script defines once, before its blocks (see FRAMEWORK.md).
 * Helpers read the block's `fl_id` and `fl_notify`, the script's `fl_nonce`, `fl_plan`, `fl_state` and `fl_tmp`.
 * Only fl_begin/fl_end (run by the script itself, between blocks) print markers; a block's stdout, stderr and
 * diffs (fd 3) go to files that fl_end sends framed: every line prefixed with `|`, so no output starts a marker line.
 */
export const PRELUDE = String.raw`fl_mark() {
  printf '::forklift:%s:%s:%s\n' "$fl_nonce" "$1" "$2"
}
fl_begin() {
  fl_mark "$1" begin
}
fl_emit() {
  if [ -s "$3" ]; then
    fl_mark "$1" "$2"
    sed 's/^/|/' "$3"
    printf '\n'
  fi
}
fl_end() {
  if [ "$2" -ne 0 ]; then
    fl_status=failed
  elif [ -e "$fl_tmp/changed.$1" ]; then
    fl_status=changed
  else
    fl_status=ok
  fi
  fl_emit "$1" stdout "$fl_tmp/o"
  fl_emit "$1" stderr "$fl_tmp/e"
  fl_emit "$1" diff "$fl_tmp/d"
  fl_mark "$1" "exit:$2"
  fl_mark "$1" "$fl_status"
  if [ "$2" -ne 0 ]; then exit "$2"; fi
}
fl_done_already() {
  for fl_each in "$@"; do
    fl_begin "$fl_each"
    printf 'forklift: phase already ran once on this node (%s)\n' "$fl_once_flag" >"$fl_tmp/o"
    : >"$fl_tmp/e"
    : >"$fl_tmp/d"
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
# shellcheck disable=SC2034 # fl_entry and fl_local are read by the user and group actions
fl_getent() {
  fl_entry=
  fl_local=1
  if [ -r "/etc/$1" ]; then
    while IFS= read -r fl_line || [ -n "$fl_line" ]; do
      case $fl_line in "$2":*) fl_entry=$fl_line; return 0 ;; esac
    done <"/etc/$1"
  fi
  fl_local=0
  if [ "${'$'}{3:-}" != local ]; then fl_entry=$(getent "$1" "$2") || fl_entry=''; fi
}
# shellcheck disable=SC2034 # fl_gids is read by the user action
fl_groups_of() {
  fl_gids=
  fl_pg=
  if [ -r /etc/group ]; then
    while IFS=: read -r fl_gn _ fl_gid fl_mem || [ -n "$fl_gn" ]; do
      if [ "$fl_gid" = "$2" ] && [ -z "$fl_pg" ]; then fl_pg=$fl_gn; fi
      case ",$fl_mem," in *",$1,"*) fl_gids="$fl_gids $fl_gn" ;; esac
    done </etc/group
  fi
  if [ -z "$fl_pg" ]; then
    fl_gids=$(id -Gn -- "$1")
  else
    fl_gids=$fl_pg$fl_gids
  fi
}
fl_same_text() {
  fl_got=
  while IFS= read -r fl_line; do
    fl_got="$fl_got$fl_line
"
  done <"$1"
  [ "$fl_got$fl_line" = "$2" ]
}
fl_diff_files() {
  if command -v diff >/dev/null 2>&1; then
    diff -a -u -L "$3" -L "$3" "$1" "$2" >&3 || [ "$?" -eq 1 ]
  else
    printf -- '--- %s\n+++ %s\n@@ content @@\n(diff is not installed on the node)\n' "$3" "$3" >&3
  fi
}
fl_diff_value() {
  printf -- '--- %s\n+++ %s\n@@ %s @@\n-%s\n+%s\n' "$1" "$1" "$2" "$3" "$4" >&3
}
fl_diff_masked() {
  printf -- '--- %s\n+++ %s\n@@ content (sensitive) @@\n-***\n+***\n' "$1" "$1" >&3
}
fl_backup() {
  if [ "$4" -eq 0 ] || [ -L "$1" ] || [ ! -f "$1" ]; then return 0; fi
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
  readlink "$1" >"$fl_tmp/link" || :
  fl_link=
  fl_more=0
  while IFS= read -r fl_line; do
    if [ "$fl_more" = 0 ]; then fl_link=$fl_line; else fl_link="$fl_link
$fl_line"; fi
    fl_more=1
  done <"$fl_tmp/link"
}
fl_ends_without_newline() {
  [ -s "$1" ] && [ -n "$(tail -c 1 "$1")" ]
}
fl_stat() {
  stat -L -c "$1" "$2"
}
fl_dirname() {
  fl_dir=$${''}{1%/*}
  fl_dir=$${''}{fl_dir:-/}
}
fl_chain() {
  fl_unsafe=0
  fl_unsafe_dir=
  fl_c=$1
  set --
  while :; do
    fl_c=$${''}{fl_c%/*}
    [ -n "$fl_c" ] || break
    set -- "$fl_c" "$@"
  done
  set -- / "$@"
  fl_lines=$(stat -c '%u %a %F' -- "$@" 2>/dev/null) || :
  while IFS=' ' read -r fl_u fl_m fl_t; do
    if [ "$#" -eq 0 ] || [ -z "$fl_u" ]; then break; fi
    fl_n=$1
    shift
    case $fl_t in
      'symbolic link')
        if [ "$fl_u" != 0 ]; then fl_fail "$fl_n is a symbolic link owned by uid $fl_u: refusing to follow it"; fi ;;
      directory)
        if [ "$fl_u" != 0 ] || { [ $((0$fl_m & 022)) -ne 0 ] && [ $((0$fl_m & 01000)) -eq 0 ]; }; then
          fl_unsafe=1
          fl_unsafe_dir=$fl_n
        fi ;;
      *) fl_fail "$fl_n is not a directory" ;;
    esac
  done <<EOF
$fl_lines
EOF
}
fl_ids() {
  if ! fl_uid=$(id -u -- "$1") || ! fl_gid=$(id -g -- "$1"); then fl_fail "no such user: $1"; fi
}
fl_as() {
  fl_ids "$1"
  shift
  if [ "$fl_uid" = 0 ]; then fl_fail "refusing to act as root in $fl_unsafe_dir, which users other than root can change (a link planted there could redirect it): make the directories root's, or give a non-root owner"; fi
  setpriv --reuid="$fl_uid" --regid="$fl_gid" --init-groups -- "$@"
}
fl_writer='d=$${''}{1%/*}; d=$${''}{d:-/}; t=$(mktemp "$d/.forklift.XXXXXX") || exit 1
if cat >"$t" && chmod "$2" "$t" && mv -fT "$t" "$1"; then exit 0; fi
rm -f "$t"; exit 1'
fl_write() {
  if [ -L "$2" ]; then
    if [ "$6" != 1 ]; then fl_fail "$2 is a symbolic link: refusing to write through it (replaceSymlink: true replaces the link itself)"; fi
  elif [ -e "$2" ] && [ ! -f "$2" ]; then
    fl_fail "$2 exists and is not a regular file"
  fi
  fl_chain "$2"
  fl_o=$3
  fl_g=$4
  fl_mo=$5
  if [ -f "$2" ] && [ ! -L "$2" ] && { [ -z "$fl_o" ] || [ -z "$fl_g" ] || [ -z "$fl_mo" ]; }; then
    fl_have=$(stat -c '%u %g %a' -- "$2")
    fl_rest=$${''}{fl_have#* }
    : "$${''}{fl_o:=$${''}{fl_have%% *}}" "$${''}{fl_g:=$${''}{fl_rest%% *}}" "$${''}{fl_mo:=$${''}{fl_rest#* }}"
  fi
  : "$${''}{fl_o:=0}" "$${''}{fl_g:=0}" "$${''}{fl_mo:=644}"
  if [ "$fl_unsafe" = 0 ]; then
    fl_dirname "$2"
    fl_t=$(mktemp "$fl_dir/.forklift.XXXXXX")
    if cat "$1" >"$fl_t" && chown -h "$fl_o:$fl_g" "$fl_t" && chmod "$fl_mo" "$fl_t" && mv -fT "$fl_t" "$2"; then return 0; fi
    rm -f "$fl_t"
    fl_fail "could not write $2"
  fi
  fl_as "$fl_o" sh -c "$fl_writer" fl-write "$2" "$fl_mo" <"$1" || fl_fail "could not write $2 as $fl_o"
  chown -h "$fl_o:$fl_g" "$2"
}
fl_run_at() {
  fl_chain "$1"
  shift
  if [ "$fl_unsafe" = 0 ]; then "$@"; return; fi
  fl_as "$(stat -c %u -- "$fl_unsafe_dir")" "$@"
}
fl_read() {
  fl_chain "$1"
  if [ "$fl_unsafe" = 0 ]; then cat -- "$1"; return; fi
  fl_as "$(stat -c %u -- "$1")" cat -- "$1"
}
fl_meta() {
  if [ -L "$1" ]; then fl_fail "$1 is a symbolic link: refusing to change owner or mode through it"; fi
  fl_have=$(stat -c '%U %u %G %g %a %s' -- "$1" 2>/dev/null) || fl_have='- - - - - -'
  # shellcheck disable=SC2086 # the six stat fields, split on purpose
  set -- "$1" "$2" "$3" "$4" $fl_have
  # shellcheck disable=SC2034 # the size is read by the file action's content check
  fl_size=$${''}{10}
  fl_chown=
  if [ -n "$2" ]; then
    case $2 in *[!0-9]*) fl_h=$5 ;; *) fl_h=$6 ;; esac
    if [ "$fl_h" != "$2" ]; then fl_changed; fl_diff_value "$1" owner "$${''}{fl_h#-}" "$2"; fl_chown=$2; fi
  fi
  if [ -n "$3" ]; then
    case $3 in *[!0-9]*) fl_h=$7 ;; *) fl_h=$8 ;; esac
    if [ "$fl_h" != "$3" ]; then fl_changed; fl_diff_value "$1" group "$${''}{fl_h#-}" "$3"; fl_chown="$fl_chown:$3"; fi
  fi
  fl_chmod=
  if [ -n "$4" ] && [ "$9" != "$4" ]; then fl_changed; fl_diff_value "$1" mode "$${''}{9#-}" "$4"; fl_chmod=$4; fi
  if [ -z "$fl_chown$fl_chmod" ] || ! fl_apply || [ ! -e "$1" ]; then return 0; fi
  if [ -n "$fl_chown" ]; then chown -h -- "$fl_chown" "$1"; fi
  if [ -n "$fl_chmod" ]; then
    fl_chain "$1"
    if [ "$fl_unsafe" = 0 ]; then
      chmod -- "$fl_chmod" "$1"
    else
      fl_as "$(stat -c %u -- "$1")" chmod -- "$fl_chmod" "$1"
    fi
  fi
}
`;
