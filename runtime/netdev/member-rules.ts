import { deleteNftTable, nftTableName, replaceNftTable } from './nft-table.js'
import type { InboundRule } from '../../machines/vpn-policy.js'
import { DmsError } from '../errors.js'
import { isIpv4 } from '../../machines/net-values.js'

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


/** Remove what a crashed run may have left for `device`. */
export async function removeStaleRules (device: string): Promise<void> {
  await deleteNftTable('inet', nftTableName('dms_rules', device))
}

export function createMemberRules (init: { device: string }): MemberRules {
  if (!/^[\w.-]{1,15}$/.test(init.device)) throw new DmsError('CONFIG_INVALID', `bad device name ${JSON.stringify(init.device)}`)
  const table = nftTableName('dms_rules', init.device)
  return {
    apply: async (rules) => {
      if (rules == null) { await removeStaleRules(init.device); return }
      const accepts = rules.map((rule) => {
        if (!rule.from.every(isIpv4)) throw new DmsError('CONFIG_INVALID', 'bad member address in a rule')
        const what = rule.protocol === 'any' ? '' : rule.protocol === 'icmp' ? ' meta l4proto icmp' : ` ${rule.protocol} dport ${rule.ports != null ? `${rule.ports[0]}-${rule.ports[1]}` : '1-65535'}`
        return `    ip saddr { ${rule.from.join(', ')} }${what} accept`
      })
      await replaceNftTable('inet', table, [
        '  chain input {',
        '    type filter hook input priority -5; policy accept;',
        `    iifname != "${init.device}" accept`,
        '    ct state established,related accept',
        ...accepts,
        '    counter drop',
        '  }'
      ])
    },
    delete: async () => { await removeStaleRules(init.device) }
  }
}
