/** promote-color's own part of --help (helpText adds the common options and the exit codes). */
export const USAGE = `promote-color — shift an app's live traffic between its blue/green colors on HAProxy, in stages behind health gates

Usage:
  ... node records ... | promote-color APP --to COLOR [options]   promote COLOR in stages
  ... node records ... | promote-color APP --status               the live color, weights, last promotion
  ... node records ... | promote-color APP --rollback             all traffic back to the previous live color

Options:
  --to COLOR             the color that takes the traffic (a backend APP_COLOR on the LB)
  --stages 10,50,100     percent of the live traffic COLOR takes at each stage (must end at 100)
  --hold 10s             how long each stage holds before its gate decides (ms, s, m)
  --max-error-rate 0.1%  highest error rate of COLOR in a stage's window (percent, or a fraction)
  --min-requests N       fewest requests COLOR must see in a stage's window (default 0)
  --status               print the state kept on the LB nodes; change nothing
  --rollback             all traffic back to the previous live color at once
  --dry-run              print the stages and gates it would run; change nothing
  --lb GROUP             the LB nodes' group (default lb; without it, nodes with role lb also count)

Reads node records on stdin: the LB node(s) running HAProxy (converged with @forklift/crates' haproxy
crate) and optionally the nodes of both colors. Talks to HAProxy's runtime API over each LB's SSH
connection (pinned host key); never reloads HAProxy. Before the first stage every COLOR server must be
UP in HAProxy's checks and answer /healthz with 200. Each stage sets the weights on every LB (and
persists them on the node), holds, and checks COLOR's window every 0.5 s: a server out of service or an
error rate above --max-error-rate rolls everything back to the live color at once (exit 1).
State: /var/lib/forklift/promote/APP.json on each LB (atomic writes); a lock on each LB refuses a second
run (exit 69). Ctrl-C: the weights of the stage under way stay on every LB (a 'held' record), exit 130.

Writes the node records it read, one promotion record per stage (app, from, to, weights, stage,
status shifted/held/rolled-back/done, window {requests, errors, errorRate}, reason?), then a summary.
Exit 65 here: no LB node, an unknown app or color, a damaged state file; 69: no admin socket or socat
on the LB, another run holds the lock.`;
