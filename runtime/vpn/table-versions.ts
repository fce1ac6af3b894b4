import type { RoutingTable } from '../../machines/vpn-table.js'
import type { NodeComponents } from '../node-components.js'
import { signTable } from './signed-table.js'
import type { SignedTable } from './signed-table.js'
import { TablePublisher } from './table-publisher.js'
import type { Delivery } from './table-publisher.js'
import { VpnStore } from './store.js'

/** How long a leader's stop waits for members to confirm the closing version. */
const CLOSE_WAIT_MS = 4000

/**
 * The signed versions of one node's VPN table: the leader signs and publishes
 * each version the machine makes; everyone persists the version in use, one at
 * a time and in order. The table itself lives in the machine's context; this
 * keeps only its signed form (what members verify) and the disk copy.
 */
export class TableVersions {
  private readonly store: VpnStore
  private readonly publisher: TablePublisher
  /** The signed form of the table in the machine, as last signed or received. */
  private signed?: SignedTable
  private chain: Promise<void> = Promise.resolve()

  constructor (private readonly node: Pick<NodeComponents, 'config' | 'identity' | 'messages' | 'events'>, private readonly report: (message: string) => void, why: (peer: string) => string | undefined = () => undefined) {
    this.store = new VpnStore(node.config.dataDir)
    // a member the table cannot reach is told of on the leader's side, with why its path fails
    this.publisher = new TablePublisher(node, (peer, error) => { node.events.emit({ type: 'vpn.member.unreachable', peer, reason: /^[A-Z_]+:/.test(error) ? error : why(peer) ?? error }) })
  }

  /** Queue a version the machine adopted. */
  record (table: RoutingTable): void {
    this.chain = this.chain.then(async () => { await this.adopt(table) }).catch((err: unknown) => { this.report(`could not record VPN version ${table.version}: ${(err as Error).message}`) })
  }

  /** Resolves once every queued version is signed, saved and handed to the publisher. */
  async settled (): Promise<void> {
    await this.chain
  }

  /** A verified table from the leader that the machine will take: its signed form is what this node persists. */
  received (signed: SignedTable, current: RoutingTable | undefined): void {
    const { table } = signed
    if (current == null || (table.vpnId === current.vpnId && table.version > current.version)) this.signed = signed
  }

  /** The persisted table, after a restart. */
  async load (): Promise<SignedTable | undefined> {
    const saved = await this.store.load()
    if (saved != null) this.signed = saved
    return saved
  }

  /** The leader's current signed table, for a member's sync. */
  current (): SignedTable | undefined {
    return this.signed
  }

  /** Leader: the version each member confirmed. */
  /** After inviting `peers`: wait until each took `version` or failed a first try, so status says which (at most 12 s). */
  async firstOutcome (peers: string[], version: number | undefined, timeoutMs = 12_000): Promise<void> {
    if (version != null) await this.publisher.firstOutcome(peers, version, timeoutMs)
  }

  deliveries (): Record<string, Delivery> {
    return this.publisher.status()
  }

  /** The VPN ended here: forget it on disk. */
  async clear (): Promise<void> {
    await this.chain
    await this.store.clear()
    this.signed = undefined
  }

  private async adopt (table: RoutingTable): Promise<void> {
    const self = this.node.identity.peerId()
    if (table.leader === self) {
      const previous = this.signed?.table
      this.signed = await signTable(this.node.identity.privateKey(), table)
      if (!table.closed) await this.store.save(this.signed)
      // members, and peers this version removed: they learn from it that they are out
      const removed = previous == null ? [] : Object.keys(previous.members).filter((peer) => table.members[peer] == null)
      const recipients = [...Object.keys(table.members), ...removed].filter((peer) => peer !== self)
      const published = this.publisher.publish(this.signed, recipients, table.closed ? { attempts: 2, timeoutMs: 3000 } : {})
      // a closing version is waited for, briefly: stop returns once reachable members were told
      if (table.closed) {
        let timer: NodeJS.Timeout | undefined
        await Promise.race([published, new Promise((resolve) => { timer = setTimeout(resolve, CLOSE_WAIT_MS) })])
        clearTimeout(timer)
      }
    } else if (this.signed?.table.version === table.version && this.signed.table.vpnId === table.vpnId && !table.closed && table.members[self] != null) {
      await this.store.save(this.signed)
    }
  }
}
