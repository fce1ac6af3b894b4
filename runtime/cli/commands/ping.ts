import { UsageError } from '../command.js'
import type { Command } from '../command.js'
import { call, output, print } from '../client-call.js'
import { ControlClient } from '../../control/client.js'
import { countArg } from '../arguments.js'
import { peerArg } from '../peer-arg.js'
import { renderError } from '../render-error.js'
import { shortId } from '../format.js'
import { fitText, terminalWidth } from '../terminal.js'
import type { PingResult } from '../../../actors/ping-client.js'
import type { VpnStatus } from '../../vpn/vpn-types.js'


const IPV4 = /^\d{1,3}(\.\d{1,3}){3}$/

/** The peer behind TARGET: a VPN IP (looked up in the node's VPN routes) or a peer id, alias or prefix. */
async function pingTarget (dataDir: string, target: string): Promise<{ peer: string, ip?: string }> {
  if (!IPV4.test(target)) return { peer: await peerArg(dataDir, target, 'TARGET') }
  // a node without the VPN feature does not know the method: no VPN; no node at all is NODE_UNREACHABLE
  const vpn = await call<VpnStatus>(dataDir, 'vpn.status').catch((err: { code?: string }) => { if (err?.code === 'NODE_UNREACHABLE') throw err })
  const route = vpn?.routes.find((r) => r.ip === target)
  if (route == null) throw new UsageError(`TARGET ${target} is no member of this node's VPN${vpn?.subnet != null ? ` (${vpn.subnet}: dms-net vpn status)` : ' (it is in no VPN)'}`)
  if (route.self) throw new UsageError(`TARGET ${target} is this node's own VPN IP`)
  return { peer: route.peer, ip: target }
}

/** `/ip4/…/tcp/…` of a direct connection, `relay 12D3KooWAb…Xy9z` of a relayed one. */
export function pathText (result: Pick<PingResult, 'via' | 'relayed'>): string {
  if (!result.relayed) return `${result.via.replace(/\/p2p\/[^/]+$/, '')} (direct)`
  const relay = /\/p2p\/([^/]+)\/p2p-circuit/.exec(result.via)?.[1]
  return `relay ${relay != null ? shortId(relay) : result.via} (relayed)`
}

const ms = (value: number): string => value < 10 ? value.toFixed(3) : value.toFixed(1)

export function pingSummary (sent: number, rtts: number[]): string {
  const lost = sent === 0 ? 0 : Math.round(100 * (sent - rtts.length) / sent)
  const times = rtts.length === 0 ? '' : `; rtt min/avg/max ${ms(Math.min(...rtts))}/${ms(rtts.reduce((a, b) => a + b, 0) / rtts.length)}/${ms(Math.max(...rtts))} ms`
  return `${sent} sent, ${rtts.length} received, ${lost}% lost${times}`
}

export const pingCommand: Command = {
  name: 'ping',
  args: 'TARGET',
  summary: 'Round trips to a peer (id, alias or VPN IP), and the path they take.',
  help: [
    '  --count N      pings to send, one a second (default 3); Ctrl-C stops early',
    '                 and prints the summary',
    'TARGET: a peer id, a unique prefix, an alias, or a VPN IP (dms-net vpn status)',
    'exit 0 when a reply came, 1 when none did'
  ].join('\n'),
  options: { count: { type: 'string', short: 'c' } },
  positionals: { required: ['TARGET'] },
  run: async (parsed) => {
    const { peer, ip } = await pingTarget(parsed.dataDir, parsed.positionals[0]!)
    const count = countArg('count', parsed.values.count, 1_000_000) ?? 3
    // a VPN IP's peer is said once, not on every line (80 columns)
    const name = ip ?? shortId(peer)
    if (ip != null && !parsed.json) print(`${ip} is ${shortId(peer)}`)
    const rtts: number[] = []
    const errors: string[] = []
    let last: PingResult | undefined
    let sent = 0
    // one connection for every ping; Ctrl-C closes it, so a ping in flight does not hold the process
    const client = await ControlClient.connect(parsed.dataDir)
    let interrupted = false
    let wake = (): void => {}
    const onInterrupt = (): void => { interrupted = true; client.close(); wake() }
    process.once('SIGINT', onInterrupt)
    try {
      while (sent < count && !interrupted) {
        sent++
        const reply = client.call<PingResult>('ping', { peer }).then((result) => result, (err: unknown) => err as Error)
        const result = await Promise.race([reply, new Promise<undefined>((resolve) => { wake = () => { resolve(undefined) } })])
        if (result === undefined) break
        if (result instanceof Error) {
          const code = (result as { code?: string }).code
          // no node, or a target that can never answer (this node's own id): not a lost ping
          if (code === 'NODE_UNREACHABLE' || code === 'BAD_PEER_ID') throw result
          const reason = renderError(result).replace(/^no ping reply from \S+: /, '')
          errors.push(reason)
          if (!parsed.json) process.stderr.write(`no reply from ${name}: ${reason}\n`)
        } else {
          rtts.push(result.rttMs)
          last = result
          if (!parsed.json) print(fitText(`pong from ${name}: ${ms(result.rttMs)} ms via ${pathText(result)}`, terminalWidth()))
        }
        if (sent < count && !interrupted) await new Promise<void>((resolve) => { const timer = setTimeout(resolve, 1000); wake = () => { clearTimeout(timer); resolve() } })
      }
    } finally {
      process.removeListener('SIGINT', onInterrupt)
      client.close()
    }
    output(parsed, { peer, ...(ip != null ? { ip } : {}), sent, received: rtts.length, rttMs: rtts, ...(last != null ? { via: last.via, relayed: last.relayed } : {}), ...(errors.length > 0 ? { errors } : {}) }, () => pingSummary(sent, rtts))
    return rtts.length > 0 ? 0 : 1
  }
}
