// The pipelines the recipes share, each one line of forklift binaries a reader can copy into a shell:
// provision a group from its spec, converge a wave of groups side by side, run the acceptance tests,
// tear groups down, ask promote-color which color is live.
import { existsSync } from 'node:fs';
import { mkdir, rename, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { recordsOf, RecipeError, unavailable } from './recipe.mjs';
import { COLORS, otherColor, releaseStatePath } from './project.mjs';

/** provision-node SERVICE --spec groups/G, for each group in order (COUNT from the spec). */
export async function provisionGroups(r, env, project, groups) {
  for (const group of groups) {
    await r.pipe(`provision ${group}`, r.with({ cwd: project.dir })`provision-node ${env.service} --spec ${`groups/${group}`}`);
  }
}

/**
 * Converge the waves: every group of a wave side by side, each as
 * `provision-node SERVICE --list | run-actions groups/G` (every node record goes in, so crates find
 * their peers; only G's nodes change). A wave starts when the one before it passed. `onStart(group)`
 * is told each group before its converge starts.
 */
export async function convergeWaves(r, env, project, waves, { phase, onStart } = {}) {
  for (const wave of waves) {
    for (const group of wave) onStart?.(group);
    const results = await Promise.allSettled(
      wave.map((group) =>
        r.pipe(
          `converge ${group}${phase ? ` --phase ${phase}` : ''}`,
          phase
            ? r.with({ cwd: project.dir })`provision-node ${env.service} --list | run-actions ${`groups/${group}`} --phase ${phase}`
            : r.with({ cwd: project.dir })`provision-node ${env.service} --list | run-actions ${`groups/${group}`}`,
        ),
      ),
    );
    const failed = results.find((result) => result.status === 'rejected');
    if (failed) throw failed.reason;
  }
}

/**
 * The acceptance tests: `provision-node SERVICE --list | expect-run PATHS` then, when the project has
 * browser scripts, `provision-node SERVICE --list | browser-drive SCRIPT`. `testEnv` names the color
 * under test and the LB port (the staging frontend for a release candidate).
 */
export async function acceptanceTests(r, env, project, { color, lbPort, group, nodes = [] } = {}) {
  const testEnv = {};
  if (color && project.config.testEnv?.color) testEnv[project.config.testEnv.color] = color;
  if (lbPort && project.config.testEnv?.lbPort) testEnv[project.config.testEnv.lbPort] = String(lbPort);
  const $ = r.with({ cwd: project.dir, env: testEnv });
  const list = group ? ['--list', '--group', group] : ['--list'];
  const expectPaths = project.config.tests?.expect ?? [];
  let tests = [];
  if (expectPaths.length > 0) {
    tests = await r.pipe('acceptance tests', $`provision-node ${env.service} ${list} | expect-run ${expectPaths}`);
  }
  // the browser goes through the load balancer (the staging port for a release candidate)
  const lb = nodes.find((n) => n.state === 'running' && (n.roles ?? []).includes('lb') && (!group || n.group === group));
  const url = lb ? ['--base-url', `http://${lb.address}${lbPort && lbPort !== 80 ? `:${lbPort}` : ''}`] : [];
  for (const script of project.config.tests?.browser ?? []) {
    await r.pipe(`browser ${script}`, $`provision-node ${env.service} ${list} | browser-drive ${script} ${url}`);
  }
  return recordsOf(tests, 'test');
}

/** provision-node SERVICE 0 --group G for each group (in reverse order), going on past failures. */
export async function tearDown(r, env, project, groups) {
  let firstError;
  for (const group of [...groups].reverse()) {
    try {
      await r.pipe(`tear down ${group}`, r.with({ cwd: project.dir })`provision-node ${env.service} 0 --group ${group}`);
    } catch (error) {
      firstError ??= error;
    }
  }
  if (firstError) throw firstError;
}

/** The running node records of the environment (`provision-node SERVICE --list`). */
export async function listNodes(r, env, project, label = 'list the nodes') {
  const records = await r.pipe(label, r.with({ cwd: project.dir })`provision-node ${env.service} --list`);
  return recordsOf(records, 'node', (n) => n.state === 'running');
}

/**
 * Node records as NDJSON, the input of a pipeline's second stage: one `provision-node SERVICE --list`
 * serves the steps that follow while the nodes do not change (`… | promote-color`, `… | run-actions`),
 * each listing costs a node process (1-3 s on a busy 2-core machine).
 */
export function nodeLines(nodes) {
  return nodes.map((node) => JSON.stringify(node)).join('\n') + '\n';
}

/** Count running nodes per group. */
export function countByGroup(nodes) {
  const out = {};
  for (const node of nodes) out[node.group] = (out[node.group] ?? 0) + 1;
  return out;
}

/**
 * Which color serves production: the listed node records `| promote-color APP --status`. The
 * live color is the one taking all live traffic (weights 100 %); with a promotion under way or an
 * LB that disagrees, the recipe stops (exit 1). No LB node: exit 69 (bring production up first).
 */
export async function liveColor(r, env, project, nodes) {
  const lb = nodes.filter((n) => n.group === project.config.lb || (n.roles ?? []).includes('lb'));
  if (lb.length === 0)
    throw unavailable(`no load balancer (group ${project.config.lb}) runs in ${env.home} on service ${env.service}: bring production up first (make up)`);
  const records = await r.pipe('live color', r.with({ cwd: project.dir, input: nodeLines(nodes) })`promote-color ${project.config.app} --status`);
  const [status] = recordsOf(records, 'promotion');
  if (!status) throw new RecipeError('promote-color --status wrote no promotion record');
  const full = (status.weights ?? []).filter((w) => w.weight >= 100).map((w) => w.color);
  if (full.length !== 1 || !COLORS.includes(full[0])) {
    throw new RecipeError(
      `${project.config.app} is in the middle of a promotion (${(status.weights ?? []).map((w) => `${w.color} ${w.weight}%`).join(', ')}): finish it (production-release) or roll it back (promote-color ${project.config.app} --rollback) first`,
    );
  }
  return { live: full[0], staged: otherColor(full[0]), status };
}

/** Write the release state atomically (temporary file + rename). */
export async function writeReleaseState(home, app, state) {
  const file = releaseStatePath(home, app);
  await mkdir(dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  await writeFile(tmp, `${JSON.stringify(state, null, 2)}\n`, { mode: 0o644 });
  await rename(tmp, file);
}

/** The project's build command with a version (`node build.mjs --version 1.2.0`). */
export function buildCommand(project, version) {
  const build = [...project.config.build];
  if (version && project.config.versionFlag) build.push(project.config.versionFlag, version);
  return build;
}

/** Run the project's build in `dir`. */
export async function build(r, project, version) {
  const command = buildCommand(project, version);
  if (!existsSync(join(project.dir, command[1] ?? ''))) {
    // a build command that is not a script in the project (e.g. `make bundle`) is run as given
  }
  return r.step(`build${version ? ` ${version}` : ''}`, async () => {
    const out = await r.with({ cwd: project.dir })`${command}`.run();
    if (out.exitCode !== 0) {
      r.warn(
        out.stderr
          .trim()
          .split('\n')
          .slice(-20)
          .map((l) => `    ${l}`)
          .join('\n'),
      );
      throw new RecipeError(`${command.join(' ')} exited ${out.exitCode}`);
    }
    return out.stdout;
  });
}
