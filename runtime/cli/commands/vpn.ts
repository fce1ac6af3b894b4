import { ControlClient } from '../../control/client.js'
import { VPN_PROTOCOL_V1 } from '../../../actors/vpn/vpn-protocols.js'
import { parseSubnet } from '../../../machines/vpn-table.js'
import { checkDomain, nameSpellingProblem } from '../../../machines/vpn-names.js'
import { isIPv4 } from 'node:net'
import type { VpnStatus } from '../../vpn/vpn-service.js'
import type { VpnName } from '../../vpn/vpn-dns.js'
import type { PublishedPort } from '../../vpn/vpn-ports.js'
import type { PolicyRule, VpnPolicy } from '../../vpn/vpn-rules.js'
import { UsageError } from '../command.js'
import type { Command } from '../command.js'
import { shortId, table } from '../format.js'
import { fitText, terminalWidth } from '../terminal.js'
import { peerArg } from '../peer-arg.js'

const print = (text: string): void => { process.stdout.write(`${text}\n`) }

async function call<T = VpnStatus> (dataDir: string, method: string, params: Record<string, unknown> = {}): Promise<T> {
  const client = await ControlClient.connect(dataDir)
  try { return await client.call<T>(method, params) } finally { client.close() }
}

/** `vpn dns list`: records, then every member's stable name (its peer id), as NAME IP KIND rows. */
function namesText (names: VpnName[]): string {
  if (names.length === 0) return 'no names: the VPN is not running'
  return table([['NAME', 'IP', 'KIND'], ...names.map((n) => [n.kind === 'peer' ? n.name.replace(/^(\w{10})\w+(\w{4}\.)/, '$1…$2') : n.name, n.ip, n.kind === 'peer' ? 'peer id' : 'record'])])
}

export function vpnStatusText (s: VpnStatus): string {
  const t = s.traffic
  const drops = Object.entries(t.drops).filter(([, n]) => n > 0).map(([why, n]) => `${why} ${n}`).join(', ') || 'none'
  return [
    `state     ${s.state}${s.role !== 'none' ? ` (${s.role})` : ''}`,
    ...(s.vpnId != null
      ? [
          `vpn       ${s.vpnId},`,
          `          table version ${s.version}, subnet ${s.subnet}`,
          `this node ${s.ip ?? '-'} on ${s.device} (mtu ${s.mtu}${s.offload === true ? ', offloads' : ''}) over the ${s.network ?? '-'} host`,
          ...(s.role === 'member' ? [`leader    ${s.leader}`] : [])
        ]
      : []),
    // 80 columns: counts of any size fit, one direction a line
    `traffic   out ${t.packetsOut} packets / ${t.bytesOut} bytes,`,
    `          in ${t.packetsIn} packets / ${t.bytesIn} bytes`,
    `drops     ${drops}`,
    ...(s.dns != null ? [`dns       ${s.dns.domain}: ${s.dns.server != null ? `answering on ${s.dns.server}` : s.dns.error ?? 'not answering'}, ${Object.keys(s.names ?? {}).length} name(s) (dms-net vpn dns list)`] : []),
    ...(s.ports != null ? [`ports     ${s.ports.map((p) => `${p.protocol}/${p.port} on ${shortId(p.at)} → ${p.to.ip}:${p.to.port}`).join(', ')}`] : []),
    ...(s.portsError != null ? [`error     ${s.portsError}`] : []),
    ...(s.lastError != null ? [`error     ${s.lastError}`] : []),
    ...(s.routes.length > 0
      ? ['', table([
          ['IP', 'PEER', s.role === 'leader' ? 'CONFIRMED' : '', 'PATH'],
          ...s.routes.map((r) => {
            const delivery = s.members[r.peer]
            const confirmed = r.self ? '(this node)' : delivery == null ? '' : `v${delivery.version}${delivery.error != null ? ' (failed)' : ''}`
            const path = r.via != null ? `relayed via ${shortId(r.via)}` : r.path === 'limited' ? 'limited relay' : r.path === 'none' ? 'no path' : r.path ?? ''
            return [r.ip, shortId(r.peer), s.role === 'leader' || r.self ? confirmed : '', path]
          })
        ])]
      : []),
    // a reason is a sentence: below the table, never in a cell
    ...unconfirmed(s).map(([peer, error]) => `  ${shortId(peer)}: ${error}`),
    ...s.routes.filter((r) => r.problem != null && unconfirmed(s).every(([peer]) => peer !== r.peer)).map((r) => `  ${shortId(r.peer)}: ${r.problem!}`),
    // with offloads here, a member that takes whole packets only costs more CPU a byte: say which
    ...(s.offload === true ? s.routes.filter((r) => r.protocol === VPN_PROTOCOL_V1).map((r) => `  ${shortId(r.peer)}: whole packets only (no offloads there, or an older version)`) : [])
  ].join('\n')
}

/** Leader: members that have not confirmed the current table, and why the last delivery failed. */
function unconfirmed (s: VpnStatus): Array<[string, string]> {
  return Object.entries(s.members).filter(([, d]) => d.error != null && d.version < (s.version ?? 0)).map(([peer, d]) => [peer, d.error!])
}

const usage = `subcommands:
  start --subnet CIDR --peers PEER,...   lead a new VPN; every peer (id or multiaddr with /p2p/) gets an IP
        [--domain DOMAIN]                the subnet's DNS domain (default dms)
  add PEER [--name LABEL]                leader: give one more peer an IP (and the name LABEL.<domain>)
  dns add NAME IP                        leader: NAME (a label or a name in the domain) answers IP
  dns remove NAME                        leader: drop a name
  dns list [--json]                      the names every member answers on its VPN address, port 53
  publish PORT IP:PORT [--udp] [--at PEER]  leader: PORT on this host (or PEER's) forwards to a member's IP:PORT
  unpublish PORT [--udp] [--at PEER]     leader: close a published port
  ports [--json]                         the published ports
  policy on|off                          leader: deny traffic between members unless a rule allows it
  group PEER GROUP,...                   leader: PEER's groups (none: '')
  rule add --from WHO --to WHO [--proto tcp|udp|icmp|any] [--port N[-M]]
                                         leader: allow WHO (a peer, group:NAME or *) to open connections
  rule remove N                          leader: drop rule N (as rules lists them)
  rules [--json]                         the policy: groups and rules
  remove PEER                            leader: withdraw a peer's IP and routes
  stop                                   leader: close the VPN for everyone; member: leave it
  status [--json]                        routes, traffic in/out, drops

A member accepts invitations from peers given to its node with --vpn-accept (or any peer of its private swarm).
The VPN needs root (or CAP_NET_ADMIN) and /dev/net/tun.

example: dms-net vpn start --subnet 10.88.0.0/24 --peers 12D3KooWA...,12D3KooWB... --data ./a`

export const vpnCommand: Command = {
  name: 'vpn',
  args: 'SUBCOMMAND',
  summary: 'VPN (IP over libp2p): start, add, remove, stop, status, dns, publish, policy, rules.',
  help: usage,
  options: {
    subnet: { type: 'string' },
    peers: { type: 'string' },
    domain: { type: 'string' },
    name: { type: 'string' },
    udp: { type: 'boolean' },
    at: { type: 'string' },
    from: { type: 'string' },
    to: { type: 'string' },
    proto: { type: 'string' },
    port: { type: 'string' },
    json: { type: 'boolean' }
  },
  positionals: { required: ['SUBCOMMAND'], rest: true },
  run: async ({ positionals, values, dataDir }) => {
    const [sub, ...args] = positionals as [string, ...string[]]
    const need = (count: number, what: string): void => { if (args.length !== count) throw new UsageError(`vpn ${sub} needs ${what}`) }
    const show = (s: VpnStatus): number => {
      print(values.json === true ? JSON.stringify(s, null, 2) : vpnStatusText(s))
      return s.state === 'failed' ? 1 : 0
    }
    /** After start or add: a member that could not be told its IP is a failure the exit code says. */
    const showChange = (s: VpnStatus): number => {
      const missed = unconfirmed(s)
      if (show(s) !== 0) return 1
      if (missed.length === 0) return 0
      const named = missed.map(([peer, error]) => `${shortId(peer)} (${/^[A-Z_]+(?=:)/.exec(error)?.[0] ?? 'unreachable?'})`)
      process.stderr.write(`dms-net vpn ${sub}: ${missed.length} member(s) did not confirm their IP: ${named.join(', ')} (dms-net vpn status)\n`)
      return 1
    }
    switch (sub) {
      case 'start': {
        need(0, 'only --subnet CIDR --peers PEER,...')
        if (typeof values.subnet !== 'string') throw new UsageError('vpn start needs --subnet CIDR, e.g. 10.88.0.0/24')
        try { parseSubnet(values.subnet) } catch (err) { throw new UsageError((err as Error).message) }
        const given = typeof values.peers === 'string' ? values.peers.split(',').map((p) => p.trim()).filter((p) => p !== '') : []
        if (given.length === 0) throw new UsageError('vpn start needs --peers PEER,... (at least one other peer)')
        if (typeof values.domain === 'string') { try { checkDomain(values.domain) } catch (err) { throw new UsageError(`--domain: ${(err as Error).message}`) } }
        // a multiaddr with /p2p/ is dialled by the node; anything else is a peer id, alias or prefix
        const peers = await Promise.all(given.map(async (peer) => peer.startsWith('/') ? peer : await peerArg(dataDir, peer)))
        return showChange(await call(dataDir, 'vpn.start', { subnet: values.subnet, peers, ...(typeof values.domain === 'string' ? { domain: values.domain } : {}) }))
      }
      case 'add': need(1, 'PEER'); nameArg(values.name, '--name'); return showChange(await call(dataDir, 'vpn.add', { peer: args[0]!.startsWith('/') ? args[0] : await peerArg(dataDir, args[0]!), ...(typeof values.name === 'string' ? { name: values.name } : {}) }))
      case 'remove': need(1, 'PEER'); return show(await call(dataDir, 'vpn.remove', { peer: await peerArg(dataDir, args[0]!) }))
      case 'stop': need(0, 'no arguments'); return show(await call(dataDir, 'vpn.stop'))
      case 'status': need(0, 'no arguments'); return show(await call(dataDir, 'vpn.status'))
      case 'dns': return await dnsCommand(dataDir, args, values.json === true)
      case 'publish': case 'unpublish': case 'ports': return await portsCommand(dataDir, sub, args, values)
      case 'policy': case 'group': case 'rule': case 'rules': return await rulesCommand(dataDir, sub, args, values)
      default: throw new UsageError(`unknown vpn subcommand ${JSON.stringify(sub)}\n${usage}`)
    }
  }
}

/** `vpn dns add NAME IP | remove NAME | list`: the leader's records; list works on every member. */
/** A DNS name or label given on the command line: its spelling checked here, before the node is asked (exit 2). */
function nameArg (name: unknown, what: string): void {
  const problem = typeof name === 'string' ? nameSpellingProblem(name) : undefined
  if (problem != null) throw new UsageError(`${what} ${JSON.stringify((name as string).slice(0, 80))}: ${problem}`)
}

async function dnsCommand (dataDir: string, args: string[], json: boolean): Promise<number> {
  const [action, ...rest] = args
  const want = (count: number, what: string): void => { if (rest.length !== count) throw new UsageError(`vpn dns ${action} needs ${what}`) }
  let names: VpnName[]
  switch (action) {
    case 'add':
      want(2, 'NAME IP'); nameArg(rest[0], 'NAME')
      if (!isIPv4(rest[1]!)) throw new UsageError(`vpn dns add: ${JSON.stringify(rest[1]!.slice(0, 40))} is not an IPv4 address`)
      names = await call<VpnName[]>(dataDir, 'vpn.dns.add', { name: rest[0], ip: rest[1] }); break
    case 'remove': want(1, 'NAME'); names = await call<VpnName[]>(dataDir, 'vpn.dns.remove', { name: rest[0] }); break
    case 'list': want(0, 'no arguments'); names = await call<VpnName[]>(dataDir, 'vpn.dns.list'); break
    default: throw new UsageError(`vpn dns takes add NAME IP, remove NAME or list (got ${JSON.stringify(action ?? '')})`)
  }
  print(json ? JSON.stringify(names, null, 2) : namesText(names))
  return 0
}

/** `vpn publish PORT IP:PORT | unpublish PORT | ports`, with --udp and --at PEER. */
async function portsCommand (dataDir: string, sub: string, args: string[], values: Record<string, unknown>): Promise<number> {
  const port = (text: string | undefined, what: string): number => {
    if (text == null || !/^\d{1,5}$/.test(text) || Number(text) < 1 || Number(text) > 65535) throw new UsageError(`vpn ${sub}: ${what} must be a port from 1 to 65535 (got ${JSON.stringify(text ?? '')})`)
    return Number(text)
  }
  const slot = { protocol: values.udp === true ? 'udp' : 'tcp', ...(typeof values.at === 'string' ? { at: await peerArg(dataDir, values.at) } : {}) }
  let ports: PublishedPort[]
  if (sub === 'ports') {
    if (args.length !== 0) throw new UsageError('vpn ports takes no arguments')
    ports = await call<PublishedPort[]>(dataDir, 'vpn.ports.list')
  } else if (sub === 'publish') {
    if (args.length !== 2) throw new UsageError('vpn publish needs PORT IP:PORT, e.g. vpn publish 8080 10.88.0.2:80')
    const target = /^(\d{1,3}(?:\.\d{1,3}){3}):(\d+)$/.exec(args[1]!)
    if (target == null) throw new UsageError(`vpn publish: the target must be a member's IP:PORT, e.g. 10.88.0.2:80 (got ${JSON.stringify(args[1])})`)
    ports = await call<PublishedPort[]>(dataDir, 'vpn.ports.publish', { ...slot, port: port(args[0], 'PORT'), toIp: target[1], toPort: port(target[2], 'the target port') })
  } else {
    if (args.length !== 1) throw new UsageError('vpn unpublish needs PORT')
    ports = await call<PublishedPort[]>(dataDir, 'vpn.ports.unpublish', { ...slot, port: port(args[0], 'PORT') })
  }
  print(values.json === true ? JSON.stringify(ports, null, 2) : ports.length === 0 ? 'no published ports' : table([['PORT', 'ON', 'TO'], ...ports.map((p) => [`${p.protocol}/${p.port}`, shortId(p.at), `${p.to.ip}:${p.to.port}`])]))
  return 0
}

/** `vpn policy on|off`, `group PEER GROUPS`, `rule add|remove`, `rules`: rules between members. */
async function rulesCommand (dataDir: string, sub: string, args: string[], values: Record<string, unknown>): Promise<number> {
  const who = async (text: unknown, flag: string): Promise<string> => {
    if (typeof text !== 'string' || text === '') throw new UsageError(`vpn rule add needs --${flag} WHO (a peer, group:NAME or *)`)
    return text === '*' || text.startsWith('group:') ? text : await peerArg(dataDir, text)
  }
  let policy: VpnPolicy | null
  if (sub === 'policy') {
    if (args.length !== 1 || !['on', 'off'].includes(args[0]!)) throw new UsageError('vpn policy takes on or off')
    policy = await call<VpnPolicy | null>(dataDir, 'vpn.policy', { on: args[0] === 'on' })
  } else if (sub === 'group') {
    if (args.length !== 2) throw new UsageError('vpn group needs PEER GROUP,... (\'\' for none)')
    policy = await call<VpnPolicy | null>(dataDir, 'vpn.group.set', { peer: await peerArg(dataDir, args[0]!), groups: args[1]!.split(',').map((g) => g.trim()).filter((g) => g !== '') })
  } else if (sub === 'rule' && args[0] === 'add' && args.length === 1) {
    const protocol = typeof values.proto === 'string' ? values.proto : 'any'
    if (!['tcp', 'udp', 'icmp', 'any'].includes(protocol)) throw new UsageError(`--proto is tcp, udp, icmp or any (got ${JSON.stringify(protocol)})`)
    const range = typeof values.port === 'string' ? /^(\d{1,5})(?:-(\d{1,5}))?$/.exec(values.port) : undefined
    if (range === null) throw new UsageError(`--port is N or N-M (got ${JSON.stringify(values.port)})`)
    if (range != null) {
      const [low, high] = [Number(range[1]), Number(range[2] ?? range[1])]
      if (low < 1 || high > 65535 || low > high) throw new UsageError(`--port ${values.port as string}: ports go from 1 to 65535, low to high`)
      if (protocol !== 'tcp' && protocol !== 'udp') throw new UsageError('--port goes with --proto tcp or udp')
    }
    const rule = { from: await who(values.from, 'from'), to: await who(values.to, 'to'), protocol, ...(range != null ? { ports: [Number(range[1]), Number(range[2] ?? range[1])] } : {}) } as PolicyRule
    policy = await call<VpnPolicy | null>(dataDir, 'vpn.rule.add', { rule })
  } else if (sub === 'rule' && args[0] === 'remove' && args.length === 2 && /^\d+$/.test(args[1]!)) {
    policy = await call<VpnPolicy | null>(dataDir, 'vpn.rule.remove', { index: Number(args[1]) })
  } else if (sub === 'rules' && args.length === 0) {
    policy = await call<VpnPolicy | null>(dataDir, 'vpn.rules')
  } else {
    throw new UsageError(`vpn ${sub} ${args.join(' ')}: see dms-net vpn --help (rule add --from WHO --to WHO, rule remove N)`)
  }
  if (values.json === true) { print(JSON.stringify(policy, null, 2)); return 0 }
  if (policy == null) { print('policy off: all traffic between members passes'); return 0 }
  const side = (w: string): string => w.startsWith('group:') || w === '*' ? w : shortId(w)
  print(fitText([
    'policy on: members reach each other only where a rule allows (replies pass)',
    ...Object.entries(policy.groups).map(([name, members]) => `group ${name}: ${members.map(shortId).join(', ') || '(no members)'}`),
    policy.rules.length === 0 ? 'no rules: nothing passes' : table([['#', 'FROM', 'TO', 'PROTO', 'PORTS'], ...policy.rules.map((r, i) => [String(i), side(r.from), side(r.to), r.protocol, r.ports != null ? `${r.ports[0]}-${r.ports[1]}` : 'all'])])
  ].join('\n'), terminalWidth()))
  return 0
}
