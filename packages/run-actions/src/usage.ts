/** run-actions --help. */
export const USAGE = `run-actions — apply plans to nodes over SSH: one connection per node, one round trip per phase

Usage:
  ... node records ... | run-actions SPEC [options]      render SPEC for the nodes, then apply
  render-crate SPEC < nodes | run-actions [options]      apply saved plan records exactly as rendered

Options:
  --phase P            run only phase P (repeatable; default: the spec's/plans' phases in order)
  --plan               checks only: report what would change (with diffs), change nothing
                       (with plan records on stdin they must have been rendered with render-crate --plan);
                       stderr ends with one line: "3 to change, 12 unchanged on 2 nodes", and on a
                       terminal shows the diffs
  --diff               show the diff of every changed file on stderr (also when applying)
  --concurrency N      at most N nodes at once (default: all, capped by the open-file limit)
  --batch N|N%         rolling batches of N nodes (or N% of them); each batch runs all phases
  --max-fail N%        start no new batch once more than N% of the nodes failed
  --timeout S          end a phase's script on a node after S seconds (that node fails;
                       default 1800: one hung node never holds the others forever)
  --allow-files DIR    with SPEC: also allow controller files under DIR (default: only inside the
                       spec's project, symlinks resolved)

Reads node records (and plan records) on stdin; re-emits the node records (with OS facts learned
on the connection), then writes result, phase and error records as they happen, and a summary.
On stderr: a recap per node, then every failed action (node, phase, label, exit code, the last lines
of its stderr) and every node that could not be reached or stopped, with the reason; -v adds a line
per action as it ends, -q leaves only the failures. Files a plan lists in \`uploads\` go to the node over the same
connection before its script runs: non-sensitive ones into the node's cache
/var/lib/forklift/blobs/<sha256> (sent only when missing, checked by sha256), sensitive ones per
run into a private directory removed when the script ends (never cached, never on a command line).`;
