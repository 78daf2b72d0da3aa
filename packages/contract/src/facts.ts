// The facts a spec and an action read about a node, derived from its record's `os` (actions'
// factsFromOs derives them). Types only: they live here so that specs (@forklift/spec) and the
// action vocabulary (@forklift/actions) share them without depending on each other.

/** OS families forklift renders for; every node's `os.family` maps onto one of them. */
export type OsFamily = 'debian' | 'fedora' | 'alpine';

/**
 * Facts an action or a spec function may read, derived from the node record's `os`: the family (what every
 * OS table is keyed by) and the release. The node record's `os` may say more (packageManager, init, arch,
 * gathered by run-actions' preflight); no action chooses by them, so they are not rendering facts.
 */
export interface Facts {
  /** The family the node belongs to (debian covers ubuntu; fedora covers rhel, centos, rocky ...). */
  family: OsFamily;
  /** Release string, e.g. `12`. */
  release: string;
}
