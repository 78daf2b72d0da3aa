/** The --help text of expect-run. */
export const USAGE = `expect-run — expectations-style acceptance tests against provisioned systems

Usage:
  [node records |] expect-run [PATHS...] [--watch] [--grep PATTERN] [--tap] [--timeout S]

PATHS are test files, directories (searched for *.expect.ts and *.expect.js) or globs
(quote them); default: the current directory. Node records piped on stdin are what
tests get from nodes(group); other records pass through.

Options:
  --watch          run, then re-run the affected test files whenever a test file or a
                   module it imports changes; Ctrl-C ends (exit 130)
  --grep PATTERN   run only tests whose name or file matches the regular expression
  --tap            write TAP 14 on stdout instead of records (not with --watch)
  --timeout S      time limit of each test and async expectation, in seconds (default 30)

Writes one test record per expectation or test, then a summary record. On stderr:
the focused failures and 'Ran N tests containing M assertions in X ms: F failures, E errors'.`;
