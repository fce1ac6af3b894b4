import type { Command } from '../command.js'
import { call, print } from '../client-call.js'
import { parseStunServer } from '../../../actors/discovery/stun.js'
import { checkClock, checkNat, checkNetAdmin, checkTool, checkTun, reachabilityChecks } from '../netcheck.js'
import type { Check } from '../netcheck.js'
import type { ClockSkew } from '../../clock-skew.js'
import type { DiscoveryStatus, HostStatus } from '../../events.js'
import { UsageError } from '../command.js'
import { paint, terminalWidth, wrap } from '../terminal.js'

interface NodeFacts { pid: number, host: HostStatus, privateHost?: HostStatus, discovery: DiscoveryStatus[], clock: ClockSkew[] }

const marks: Record<Check['status'], [string, string]> = { ok: ['ok  ', '32'], warn: ['warn', '33'], fail: ['FAIL', '31'], skip: ['--  ', '0'] }

/** `ok    tun    /dev/net/tun opens`, the fix under it; wrapped to the terminal, the mark coloured on one. */
function checkLines (check: Check, width: number): string[] {
  const [mark, colour] = marks[check.status]
  const indent = ' '.repeat(14)
  const lines = [
    ...wrap(`${mark}  ${check.name.padEnd(6)}  ${check.detail}`, width, indent),
    ...(check.fix != null ? wrap(`${indent}fix: ${check.fix}`, width, `${indent}     `) : [])
  ]
  return [`${paint(colour, mark)}${lines[0]!.slice(mark.length)}`, ...lines.slice(1)]
}

/** The node answers; which of its hosts run (a swarm member's public host may be stopped, its private one running). */
function nodeCheck (facts: NodeFacts): Check {
  const hosts = [`public host ${facts.host.state}`, ...(facts.privateHost != null ? [`private host ${facts.privateHost.state}`] : [])]
  const running = facts.host.state === 'running' || facts.privateHost?.state === 'running'
  return { name: 'node', status: running ? 'ok' : 'warn', detail: `node (pid ${facts.pid}): ${hosts.join(', ')}` }
}

export const netcheckCommand: Command = {
  name: 'netcheck',
  summary: 'Check what the network and this host allow: NAT, reachability, relay, VPN needs, clocks.',
  help: [
    '  --stun HOST:PORT   STUN server (TCP) to learn the NAT type from (repeatable;',
    '                     default: the running node\'s --stun servers)',
    'Each line says ok, warn, FAIL or -- (not checked), and what to fix.',
    'exit 0 when nothing failed, 1 when a check failed'
  ].join('\n'),
  options: { stun: { type: 'string', multiple: true } },
  run: async (parsed) => {
    let servers: Array<{ host: string, port: number }>
    try {
      servers = ((parsed.values.stun as string[] | undefined) ?? []).map(parseStunServer)
    } catch (err) {
      throw new UsageError((err as Error).message)
    }
    const facts = await call<NodeFacts>(parsed.dataDir, 'netcheck').catch((err: { code?: string }) => {
      if (err?.code === 'NODE_UNREACHABLE') return undefined
      throw err
    })
    const nodeStun = facts?.discovery.flatMap((d) => d.mechanisms.filter((m) => m.startsWith('stun ')).flatMap((m) => m.slice(5).split(' '))) ?? []
    if (servers.length === 0) servers = [...new Set(nodeStun)].map(parseStunServer)
    const checks: Check[] = [
      facts != null ? nodeCheck(facts) : { name: 'node', status: 'skip', detail: `no node runs for ${parsed.dataDir}: reachability, relay and clocks not checked`, fix: `dms-net node --data ${parsed.dataDir}` },
      // the private host of a swarm is reached through the owner, never from outside: only the public host's reachability counts
      ...(facts?.discovery.filter((d) => d.network === 'public').flatMap((d) => reachabilityChecks(d, facts.host)) ?? []),
      await checkNat(servers),
      await checkTun(),
      await checkNetAdmin(facts?.pid),
      checkTool('ip', 'network namespaces, the demo', 'iproute2'),
      checkTool('nft', 'the VPN firewall, --vpn-firewall', 'nftables'),
      ...(facts != null ? [checkClock(facts.clock)] : [])
    ]
    if (parsed.json) print(JSON.stringify({ checks }))
    else print(checks.flatMap((check) => checkLines(check, terminalWidth())).join('\n'))
    return checks.some((check) => check.status === 'fail') ? 1 : 0
  }
}
