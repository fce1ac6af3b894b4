import { run } from './run.js'
import type { InboundRule } from '../../machines/vpn-policy.js'
import { DmsError } from '../errors.js'

/**
 * The subnet's rules as this member enforces them on what arrives over the VPN
 * device, in its own nftables table (`inet dms_rules_<device>`): replies to
 * connections (conntrack: established, related) pass, each rule aimed at this
 * member accepts its senders, everything else from the device is dropped and
 * counted. Enforced by the receiver, so a sender that ignores the policy gains
 * nothing. `apply(undefined)` (the policy off) removes the table.
 */
export interface MemberRules {
  apply: (rules: InboundRule[] | undefined) => Promise<void>
  delete: () => Promise<void>
}

const IP = /^\d{1,3}(\.\d{1,3}){3}$/

/** Remove what a crashed run may have left for `device`. */
export async function removeStaleRules (device: string): Promise<void> {
  // no table (the usual case), or no nft on this host (then there can be none): nothing to remove
  await run('nft', ['delete', 'table', 'inet', tableName(device)]).catch(() => {})
}

const tableName = (device: string): string => `dms_rules_${device.replace(/[^A-Za-z0-9_]/g, '_')}`

export function createMemberRules (init: { device: string }): MemberRules {
  if (!/^[\w.-]{1,15}$/.test(init.device)) throw new DmsError('CONFIG_INVALID', `bad device name ${JSON.stringify(init.device)}`)
  const table = tableName(init.device)
  return {
    apply: async (rules) => {
      if (rules == null) { await removeStaleRules(init.device); return }
      const accepts = rules.map((rule) => {
        if (!rule.from.every((ip) => IP.test(ip))) throw new DmsError('CONFIG_INVALID', 'bad member address in a rule')
        const what = rule.protocol === 'any' ? '' : rule.protocol === 'icmp' ? ' meta l4proto icmp' : ` ${rule.protocol} dport ${rule.ports != null ? `${rule.ports[0]}-${rule.ports[1]}` : '1-65535'}`
        return `    ip saddr { ${rule.from.join(', ')} }${what} accept`
      })
      // declare, delete, define: one transaction, the old rules replaced whole
      const ruleset = [
        `table inet ${table} {}`,
        `delete table inet ${table}`,
        `table inet ${table} {`,
        '  chain input {',
        '    type filter hook input priority -5; policy accept;',
        `    iifname != "${init.device}" accept`,
        '    ct state established,related accept',
        ...accepts,
        '    counter drop',
        '  }',
        '}'
      ].join('\n')
      await run('nft', ['-f', '-'], { input: ruleset })
    },
    delete: async () => { await removeStaleRules(init.device) }
  }
}
