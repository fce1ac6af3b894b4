import type { NodeComponents } from '../node-components.js'
import type { VpnStatus } from './vpn-types.js'

/**
 * The VPN's metrics, read from its status at each scrape. Members are labelled
 * by peer id: their number is bounded by the subnet, unlike public peers.
 */
export function registerVpnMetrics (metrics: NodeComponents['metrics'], status: () => VpnStatus): void {
  metrics.gauge('dms_vpn_members', 'Members in this node\'s VPN table (0: no VPN), by role.', ['role'], () => { const s = status(); return [[{ role: s.role }, s.routes.length]] })
  metrics.counter('dms_vpn_packets_total', 'Packets carried by this node\'s VPN device, by direction.', ['direction'], () => {
    const { traffic } = status()
    return [[{ direction: 'in' }, traffic.packetsIn], [{ direction: 'out' }, traffic.packetsOut]]
  })
  metrics.counter('dms_vpn_bytes_total', 'VPN bytes, by member and direction.', ['peer', 'direction'], () =>
    status().routes.flatMap((route) => route.traffic == null ? [] : [[{ peer: route.peer, direction: 'in' }, route.traffic.bytesIn], [{ peer: route.peer, direction: 'out' }, route.traffic.bytesOut]]))
  metrics.counter('dms_vpn_drops_total', 'Packets the VPN dropped, by reason.', ['reason'], () =>
    Object.entries(status().traffic.drops).map(([reason, count]) => [{ reason }, count]))
  metrics.counter('dms_vpn_dns_queries_total', 'DNS queries this member answered (or refused, or cut), by outcome.', ['outcome'], () =>
    Object.entries(status().dns?.queries ?? {}).map(([outcome, count]) => [{ outcome }, count]))
}
