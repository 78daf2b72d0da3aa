import { createHash } from 'node:crypto';
import { InputError, UsageError, type PlanRecord } from '@forklift/contract/lite';

/** Refuse saved plans for nodes not in the input, two plans for one node and phase, or a script whose sha256 does not match. */
export function checkPlans(plans: readonly PlanRecord[], nodeIds: Set<string>): void {
  const seen = new Set<string>();
  for (const plan of plans) {
    if (!nodeIds.has(plan.node))
      throw new InputError(`plan for node "${plan.node}" phase "${plan.phase}": no such node record in the input`, { code: 'plan-without-node' });
    const key = `${plan.node}\u0000${plan.phase}`;
    if (seen.has(key)) throw new InputError(`two plans for node "${plan.node}" phase "${plan.phase}"`, { code: 'duplicate-plan' });
    seen.add(key);
    const sha = createHash('sha256').update(plan.script, 'utf8').digest('hex');
    if (sha !== plan.sha256)
      throw new InputError(`plan for node "${plan.node}" phase "${plan.phase}": sha256 does not match its script (edited after rendering?)`, {
        code: 'plan-sha256',
      });
  }
}

/** The phases in the order the plans first name them, only `only`'s when given. */
export function phaseOrder(plans: readonly PlanRecord[], only?: readonly string[]): string[] {
  const order: string[] = [];
  for (const plan of plans) if (!order.includes(plan.phase)) order.push(plan.phase);
  return only && only.length ? order.filter((phase) => only.includes(phase)) : order;
}

/** The plans by node id, then by phase. */
export function plansByNode(plans: readonly PlanRecord[]): Map<string, Map<string, PlanRecord>> {
  const plansOf = new Map<string, Map<string, PlanRecord>>();
  for (const plan of plans) {
    if (!plansOf.has(plan.node)) plansOf.set(plan.node, new Map());
    plansOf.get(plan.node)!.set(plan.phase, plan);
  }
  return plansOf;
}

/** Throw UsageError when `--plan` meets plan records rendered to apply (a saved plan runs as rendered). */
export function assertPlanMode(plans: readonly PlanRecord[], planFlag: boolean): void {
  if (!planFlag) return;
  const apply = plans.find((plan) => (plan as { mode?: unknown }).mode !== 'plan');
  if (apply) {
    throw new UsageError(
      `--plan given, but the plan for node "${apply.node}" phase "${apply.phase}" was rendered to apply changes; render it with \`render-crate --plan\` (a saved plan runs exactly as rendered)`,
    );
  }
}
