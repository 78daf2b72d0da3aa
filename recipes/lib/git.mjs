// Git for the recipes: real repositories, a remote (origin), throwaway worktrees so the user's own
// checkout is never touched, git-flow's merges (--no-ff), tags and pushes. No network beyond the
// remote the repository names.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { $ } from 'zx';
import { RecipeError, unavailable, usageError } from './recipe.mjs';

/** Branch names and the remote, all configurable (git-flow's defaults). */
export const GIT_FLAGS = ['remote', 'develop', 'master', 'release-prefix', 'tag-prefix', 'repo'];
export const GIT_DEFAULTS = { remote: 'origin', develop: 'develop', master: 'master', 'release-prefix': 'release/', 'tag-prefix': 'v' };
export const GIT_HELP = `Git options (the repository is the one holding the project, unless --repo):
  --repo DIR              the git repository (default: the one the project folder is in)
  --remote NAME           the remote to fetch from and push to (default origin)
  --develop BRANCH        the integration branch (default develop)
  --master BRANCH         the production branch (default master)
  --release-prefix P      release branches are P<VERSION> (default release/)
  --tag-prefix P          release tags are P<VERSION> (default v)`;

/** A repository the recipes work in. */
export class Repo {
  constructor(dir, options) {
    this.dir = dir;
    this.remote = options.remote;
    this.develop = options.develop;
    this.master = options.master;
    this.releasePrefix = options['release-prefix'];
    this.tagPrefix = options['tag-prefix'];
    this.worktrees = [];
  }

  /** The repository holding `projectDir` (or `--repo`), with the recipe's git options; checks git works. */
  static async open(projectDir, flags) {
    const options = { ...GIT_DEFAULTS, ...Object.fromEntries(GIT_FLAGS.filter((k) => typeof flags[k] === 'string').map((k) => [k, flags[k]])) };
    const which = await $({ nothrow: true, quiet: true })`command -v git`;
    if (which.exitCode !== 0) throw unavailable('git is not installed: apt-get install git');
    const top = await $({ nothrow: true, quiet: true, cwd: options.repo ?? projectDir })`git rev-parse --show-toplevel`;
    if (top.exitCode !== 0) throw usageError(`${options.repo ?? projectDir} is not inside a git repository (give --repo DIR)`);
    const repo = new Repo(top.stdout.trim(), options);
    const prefix = await repo.git`rev-parse --show-prefix`.catch(() => '');
    repo.projectPrefix = options.repo ? '' : prefix.trim();
    const ident = await $({ nothrow: true, quiet: true, cwd: repo.dir })`git var GIT_COMMITTER_IDENT`;
    if (ident.exitCode !== 0)
      throw unavailable('git has no identity to commit merges with: git config --global user.name "NAME"; git config --global user.email "EMAIL"');
    const remotes = (await repo.git`remote`).split('\n').filter(Boolean);
    if (!remotes.includes(repo.remote))
      throw usageError(
        `the repository ${repo.dir} has no remote ${JSON.stringify(repo.remote)} (remotes: ${remotes.join(', ') || 'none'}; give --remote NAME)`,
      );
    for (const [flag, name] of [
      ['develop', repo.develop],
      ['master', repo.master],
    ]) {
      const check = await $({ nothrow: true, quiet: true, cwd: repo.dir })`git check-ref-format --branch ${name}`;
      if (check.exitCode !== 0) throw usageError(`--${flag} ${JSON.stringify(name)} is not a valid branch name`);
    }
    return repo;
  }

  /** `git ...` in the repository (or `cwd`): its stdout; a failure throws a RecipeError with git's message. */
  git(pieces, ...values) {
    return this.gitIn(this.dir, pieces, ...values);
  }

  async gitIn(cwd, pieces, ...values) {
    const out = await $({ nothrow: true, quiet: true, cwd })(['git ' + pieces[0], ...pieces.slice(1)], ...values);
    if (out.exitCode !== 0) {
      const message = (out.stderr.trim().split('\n').filter(Boolean).pop() ?? `exit ${out.exitCode}`).replace(/^(fatal|error): /, '');
      throw new RecipeError(`git ${pieces.join('…').trim().split(/\s+/).slice(0, 3).join(' ')}: ${message}`);
    }
    return out.stdout;
  }

  /** Whether `git ...` succeeds (exit 0). */
  async test(pieces, ...values) {
    const out = await $({ nothrow: true, quiet: true, cwd: this.dir })(['git ' + pieces[0], ...pieces.slice(1)], ...values);
    return out.exitCode === 0;
  }

  /** Fetch the remote's branches and tags (prune deleted branches). */
  async fetch() {
    await this.git`fetch --prune --tags ${this.remote}`;
  }

  /** The commit a ref names, or undefined. */
  async commitOf(ref) {
    const out = await $({ nothrow: true, quiet: true, cwd: this.dir })`git rev-parse --verify --quiet ${`${ref}^{commit}`}`;
    return out.exitCode === 0 ? out.stdout.trim() : undefined;
  }

  /** The remote's branch ref (`refs/remotes/origin/develop`). */
  remoteRef(branch) {
    return `refs/remotes/${this.remote}/${branch}`;
  }

  /** The commit of a branch: the local branch when it exists, else the remote's. */
  async branchCommit(branch) {
    return (await this.commitOf(`refs/heads/${branch}`)) ?? (await this.commitOf(this.remoteRef(branch)));
  }

  /** Whether `ancestor` is reachable from `descendant`. */
  isAncestor(ancestor, descendant) {
    return this.test`merge-base --is-ancestor ${ancestor} ${descendant}`;
  }

  /** A throwaway worktree at a commit (detached), removed by `removeWorktrees`. */
  async worktree(commit, label) {
    const parent = await mkdtemp(join(tmpdir(), `forklift-${label.replace(/[^A-Za-z0-9_.-]/g, '-')}-`));
    const dir = join(parent, 'checkout');
    await this.git`worktree add --detach ${dir} ${commit}`;
    this.worktrees.push({ dir, parent });
    return dir;
  }

  /** Remove every worktree this run made. */
  async removeWorktrees() {
    for (const { dir, parent } of this.worktrees.splice(0).reverse()) {
      await $({ nothrow: true, quiet: true, cwd: this.dir })`git worktree remove --force ${dir}`;
      await rm(parent, { recursive: true, force: true });
    }
    await $({ nothrow: true, quiet: true, cwd: this.dir })`git worktree prune`;
  }

  /**
   * Merge `commit` into the remote's `branch` with a merge commit (--no-ff) in a throwaway worktree,
   * push it, and move the local branch along when that is a fast-forward and it is not checked out.
   * Returns the merge commit. A conflict aborts: nothing is pushed.
   */
  async mergeNoFf(branch, commit, message) {
    const base = await this.commitOf(this.remoteRef(branch));
    if (!base) throw new RecipeError(`the remote ${this.remote} has no branch ${branch}`);
    const dir = await this.worktree(base, `merge-${branch}`);
    const merge = await $({ nothrow: true, quiet: true, cwd: dir })`git merge --no-ff --no-edit -m ${message} ${commit}`;
    if (merge.exitCode !== 0) {
      await $({ nothrow: true, quiet: true, cwd: dir })`git merge --abort`;
      throw new RecipeError(
        `merging into ${branch} failed (nothing pushed): ${(merge.stdout + merge.stderr).trim().split('\n').filter(Boolean).slice(-2).join(' / ')}`,
      );
    }
    const merged = (await this.gitIn(dir, ['rev-parse HEAD'])).trim();
    return merged;
  }

  /** Push refs to the remote atomically (all or none). */
  async push(refspecs) {
    await this.git`push --atomic ${this.remote} ${refspecs}`;
  }

  /** Move a local branch to `commit` when it is a fast-forward and the branch is not checked out anywhere. */
  async advanceLocal(branch, commit) {
    const local = await this.commitOf(`refs/heads/${branch}`);
    if (!local) return false;
    if (!(await this.isAncestor(local, commit))) return false;
    const worktrees = await this.git`worktree list --porcelain`;
    if (worktrees.split('\n').includes(`branch refs/heads/${branch}`)) {
      // checked out: fast-forward it only when its worktree is clean and HEAD is that branch
      return false;
    }
    await this.git`update-ref ${`refs/heads/${branch}`} ${commit} ${local}`;
    return true;
  }
}

/** Branch names as git accepts them; a feature branch must not be develop or master. */
export async function checkBranchName(repo, flag, name) {
  const ok = await repo.test`check-ref-format --branch ${name}`;
  if (!ok) throw usageError(`${flag} ${JSON.stringify(name)} is not a valid branch name`);
}
