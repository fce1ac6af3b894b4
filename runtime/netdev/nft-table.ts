import { run } from './run.js'

/** An nftables table of this node's, named after the VPN device it serves (`dms_ports_dmsvpn0`). */
export const nftTableName = (prefix: string, device: string): string => `${prefix}_${device.replace(/[^A-Za-z0-9_]/g, '_')}`

/**
 * Replace a table whole, in one nft transaction (declare, delete, define): the
 * old set of rules or the new one is in place, never half of either. `chains`
 * is the table's body, already validated by the caller (nothing here is parsed
 * by a shell, but nft parses the text).
 */
export async function replaceNftTable (family: 'ip' | 'inet', name: string, chains: string[]): Promise<void> {
  const ruleset = [`table ${family} ${name} {}`, `delete table ${family} ${name}`, `table ${family} ${name} {`, ...chains, '}'].join('\n')
  await run('nft', ['-f', '-'], { input: ruleset })
}

/** Delete a table if it exists: none (the usual case), or no nft on this host (then there can be none), is nothing to delete. */
export async function deleteNftTable (family: 'ip' | 'inet', name: string): Promise<void> {
  await run('nft', ['delete', 'table', family, name]).catch(() => {}) // absent: nothing to delete
}
