// The node-side helper of the mariadb crate: checks and changes that need a password read from a root-only
// file. SQL reaches the server on stdin (printf is a shell builtin): no password is ever on a command line.

/** Where the helper is installed on the node. */
export const MARIADB_HELPER = '/usr/local/sbin/forklift-mariadb';

/** Where the node's replication role (primary | replica) is kept between runs: configure never overrides it. */
export const MARIADB_ROLE_FILE = '/var/lib/forklift/mariadb/role';

/** The helper script (POSIX sh). */
export const MARIADB_HELPER_SCRIPT = String.raw`#!/bin/sh
# managed by forklift (crate mariadb): forklift-mariadb COMMAND ARGS — idempotent checks (exit 0 = as wanted)
# and changes. Passwords are the first line of a root-only file; SQL goes to the server on stdin.
set -eu
role_file=${MARIADB_ROLE_FILE}
sql() { mariadb --batch --skip-column-names; }
# the first line of a file, as the body of an SQL string literal
literal() { head -n 1 "$1" | sed -e 's/\\/\\\\/g' -e "s/[']/\\\\&/g"; }
status() { printf 'SHOW SLAVE STATUS\\G\n' | mariadb | sed -n "s/^ *$1: //p"; }
threads_running() { [ "$(status Slave_IO_Running)" = Yes ] && [ "$(status Slave_SQL_Running)" = Yes ]; }
set_role() { mkdir -p "$(dirname "$role_file")"; printf '%s\n' "$1" > "$role_file.tmp"; mv "$role_file.tmp" "$role_file"; }
follow() { # HOST PORT USER PWFILE GTID_MODE: replicate from HOST until both threads run
  pw=$(literal "$4")
  printf "STOP SLAVE;\nCHANGE MASTER TO MASTER_HOST='%s', MASTER_PORT=%s, MASTER_USER='%s', MASTER_PASSWORD='%s', MASTER_USE_GTID=%s, MASTER_CONNECT_RETRY=2;\nSTART SLAVE;\n" "$1" "$2" "$3" "$pw" "$5" | sql
  i=0
  while ! threads_running; do
    i=$((i + 1))
    if [ "$i" -gt 120 ]; then
      echo "replication from $1:$2 did not start in 120 s: $(status Last_IO_Error) $(status Last_SQL_Error)" >&2
      exit 1
    fi
    sleep 1
  done
  set_role replica
}
cmd=$1
shift
case "$cmd" in
ping) # wait up to 60 s for the server
  i=0
  until mariadb-admin ping >/dev/null 2>&1; do i=$((i + 1)); [ "$i" -le 60 ] || { echo 'mariadb does not answer ping' >&2; exit 1; }; sleep 1; done ;;
user-ok) # NAME HOST PWFILE
  pw=$(literal "$3")
  [ "$(printf "SELECT COUNT(*) FROM mysql.global_priv WHERE User='%s' AND Host='%s' AND JSON_VALUE(Priv, '$.authentication_string') = PASSWORD('%s');\n" "$1" "$2" "$pw" | sql)" = 1 ] ;;
user-set) # NAME HOST PWFILE (not replicated: every node makes its own accounts)
  pw=$(literal "$3")
  printf "SET SESSION sql_log_bin = 0;\nCREATE USER IF NOT EXISTS '%s'@'%s';\nALTER USER '%s'@'%s' IDENTIFIED BY '%s';\n" "$1" "$2" "$1" "$2" "$pw" | sql ;;
db-ok) # NAME
  [ "$(printf "SELECT COUNT(*) FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = '%s';\n" "$1" | sql)" = 1 ] ;;
db-set) # NAME
  printf "SET SESSION sql_log_bin = 0;\nCREATE DATABASE IF NOT EXISTS \`%s\`;\n" "$1" | sql ;;
grant-ok) # ON USER HOST PRIVILEGES (ON: a database name or *; PRIVILEGES: comma-separated)
  if [ "$1" = '*' ]; then on='*.*'; else on="\`$1\`.*"; fi
  line=$(printf "SHOW GRANTS FOR '%s'@'%s';\n" "$2" "$3" | sql | grep -F " ON $on TO " || true)
  [ -n "$line" ] || exit 1
  old_ifs=$IFS; IFS=,
  for privilege in $4; do case "$line" in *"GRANT $privilege"*|*", $privilege"*) ;; *) exit 1 ;; esac; done
  IFS=$old_ifs ;;
grant-set) # ON USER HOST PRIVILEGES
  if [ "$1" = '*' ]; then on='*.*'; else on="\`$1\`.*"; fi
  printf "SET SESSION sql_log_bin = 0;\nGRANT %s ON %s TO '%s'@'%s';\n" "$(printf '%s' "$4" | sed 's/,/, /g')" "$on" "$2" "$3" | sql ;;
role-is) # ROLE
  [ "$(cat "$role_file" 2>/dev/null)" = "$1" ] ;;
init-primary)
  set_role primary ;;
follows) # HOST: replicating from HOST with both threads running
  [ "$(status Master_Host)" = "$1" ] && threads_running ;;
follow) # HOST PORT USER PWFILE GTID_MODE
  follow "$@" ;;
promote) # stop following (after applying what was received) and be a primary
  if [ -n "$(status Master_Host)" ]; then
    # what was received, without the node's own domain: those transactions were written here (a node
    # that was a primary before), so gtid_slave_pos, which MASTER_GTID_WAIT watches, never reaches them
    own=$(printf 'SELECT @@gtid_domain_id;\n' | sql)
    io_pos=$(status Gtid_IO_Pos | tr ',' '\n' | grep -v "^$own-" | paste -s -d, -)
    if [ -n "$io_pos" ]; then
      waited=$(printf "SELECT MASTER_GTID_WAIT('%s', 60);\n" "$io_pos" | sql)
      if [ "$waited" != 0 ]; then
        echo "mariadb: not promoted: the replica did not apply what it received ($io_pos) within 60 s: $(status Last_SQL_Error)" >&2
        exit 1
      fi
    fi
    printf 'STOP SLAVE;\nRESET SLAVE ALL;\n' | sql
  fi
  set_role primary ;;
primary-ok) # a primary that follows nobody
  [ "$(cat "$role_file" 2>/dev/null)" = primary ] && [ -z "$(status Master_Host)" ] ;;
*)
  echo "forklift-mariadb: unknown command $cmd" >&2
  exit 64 ;;
esac
`;
