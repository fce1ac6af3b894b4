import type { RoutingTable } from '../../machines/vpn-table.js'
import { addRule, removeRule, ruleProblem, setGroups } from '../../machines/vpn-policy.js'
import type { PolicyRule, VpnPolicy } from '../../machines/vpn-policy.js'
import type { VpnEdit } from '../../machines/vpn.js'
import { DmsError } from '../errors.js'

export type { PolicyRule, VpnPolicy }

export interface VpnRulesInit {
  table: () => RoutingTable | undefined
  requireLeader: () => void
  change: (event: VpnEdit) => Promise<void>
}

/**
 * Rules between members (leader): with the policy on, traffic between members
 * is denied unless a rule allows it, by member, group, protocol and port range;
 * every member enforces the rules aimed at it (runtime/netdev/member-rules.ts).
 * Each change is a new signed table version. `show()` works on every member.
 */
export class VpnRules {
  constructor (private readonly init: VpnRulesInit) {}

  /** Turn the policy on (deny unless a rule allows) or off (everything between members passes). */
  async policy (on: boolean): Promise<VpnPolicy | undefined> {
    this.init.requireLeader()
    await this.init.change({ type: 'vpn.policy.set', on })
    return this.show()
  }

  /** Give a member its groups (replacing its old ones; `[]` takes it out of every group). */
  async setGroups (peer: string, groups: string[]): Promise<VpnPolicy | undefined> {
    this.init.requireLeader()
    this.check(() => setGroups(this.init.table()!, peer, groups))
    await this.init.change({ type: 'vpn.group.set', peer, groups })
    return this.show()
  }

  /** Allow `from` to open `protocol` connections (to `ports`) to `to`. */
  async add (rule: PolicyRule): Promise<VpnPolicy | undefined> {
    this.init.requireLeader()
    const table = this.init.table()!
    if (table.policy == null) throw new DmsError('VPN_BAD_RULE', 'the policy is off: turn it on first (dms-net vpn policy on)')
    const problem = ruleProblem(table, table.policy, rule)
    if (problem != null) throw new DmsError('VPN_BAD_RULE', problem)
    this.check(() => addRule(table, rule))
    await this.init.change({ type: 'vpn.rule.add', rule })
    return this.show()
  }

  /** Remove the rule at `index` (as `show().rules` lists them, from 0). */
  async remove (index: number): Promise<VpnPolicy | undefined> {
    this.init.requireLeader()
    this.check(() => removeRule(this.init.table()!, index))
    await this.init.change({ type: 'vpn.rule.remove', index })
    return this.show()
  }

  show (): VpnPolicy | undefined {
    const policy = this.init.table()?.policy
    return policy == null ? undefined : structuredClone(policy)
  }

  private check (change: () => unknown): void {
    try {
      change()
    } catch (err) {
      throw new DmsError('VPN_BAD_RULE', (err as Error).message)
    }
  }
}
