import { open, readFile } from 'node:fs/promises'
import { spawnSync } from 'node:child_process'
import { networkInterfaces } from 'node:os'
import { stunMapping } from '../../actors/discovery/stun.js'
import type { DiscoveryStatus, HostStatus } from '../events.js'
import { hostAddresses } from './overview.js'
import type { ClockSkew } from '../clock-skew.js'
import { shortId } from './format.js'

/** One line of `dms-net netcheck`: what was checked, how it went, and what to do when it did not. */
export interface Check {
  name: string
  status: 'ok' | 'warn' | 'fail' | 'skip'
  detail: string
  fix?: string
}

const CAP_NET_ADMIN = 12

/** `/dev/net/tun` opens: the VPN can create its device. */
export async function checkTun (): Promise<Check> {
  try {
    await (await open('/dev/net/tun', 'r+')).close()
    return { name: 'tun', status: 'ok', detail: '/dev/net/tun opens' }
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code
    if (code === 'ENOENT') return { name: 'tun', status: 'fail', detail: 'no /dev/net/tun', fix: 'modprobe tun; in a container, pass --device /dev/net/tun' }
    return { name: 'tun', status: 'fail', detail: `/dev/net/tun does not open (${code ?? 'error'})`, fix: 'run the node as root, or with CAP_NET_ADMIN' }
  }
}

/** CAP_NET_ADMIN in the effective set of `pid` (the node's, else this process's): the VPN configures its device with it. */
export async function checkNetAdmin (pid: number | undefined): Promise<Check> {
  const who = pid != null ? `the node (pid ${pid})` : 'this shell'
  try {
    const status = await readFile(`/proc/${pid ?? 'self'}/status`, 'utf8')
    const effective = BigInt(`0x${/^CapEff:\s*([0-9a-f]+)/m.exec(status)?.[1] ?? '0'}`)
    if (((effective >> BigInt(CAP_NET_ADMIN)) & 1n) === 1n) return { name: 'cap', status: 'ok', detail: `${who} has CAP_NET_ADMIN` }
    return { name: 'cap', status: 'warn', detail: `${who} lacks CAP_NET_ADMIN: no VPN`, fix: 'run as root, or: setcap cap_net_admin+ep $(readlink -f $(which node))' }
  } catch {
    return { name: 'cap', status: 'skip', detail: 'no /proc to read capabilities from' }
  }
}

/** A program the VPN or its firewall runs is installed. */
export function checkTool (name: string, use: string, pkg: string): Check {
  const ran = spawnSync(name, name === 'ip' ? ['-V'] : ['--version'], { stdio: 'ignore', timeout: 3000 })
  if (ran.error == null && ran.status === 0) return { name, status: 'ok', detail: `${name} is installed (${use})` }
  return { name, status: 'warn', detail: `${name} is not installed (${use})`, fix: `apt-get install ${pkg}` }
}

/** Reachability and relay of one host, from the node's discovery status (AutoNAT's verdict). */
export function reachabilityChecks (d: DiscoveryStatus, host: HostStatus): Check[] {
  const autonat = d.mechanisms.some((m) => m.startsWith('autonat'))
  const ports = [...new Set([...host.addresses, ...(host.listening ?? [])].map((a) => /\/tcp\/(\d+)/.exec(a)?.[1]).filter((p) => p != null))].join(', ')
  // a public address given to --listen is announced only once confirmed
  const unconfirmed = hostAddresses(host).filter((a) => !a.announced).map((a) => a.address.replace(/\/p2p\/[^/]+$/, ''))
  const reach: Check = d.reachability === 'public'
    ? { name: 'reach', status: 'ok', detail: `${d.network}: reachable from outside on port ${ports} (AutoNAT)` }
    : d.reachability === 'private' && autonat
      ? { name: 'reach', status: 'warn', detail: `${d.network}: port ${ports} is not reachable from outside (AutoNAT)`, fix: 'forward the port on the router, or use a relay (--relay-client) and hole punching (--stun)' }
      : d.reachability === 'private' && unconfirmed.length > 0
        ? { name: 'reach', status: 'warn', detail: `${d.network}: listens on ${unconfirmed.join(', ')}, not announced until confirmed`, fix: `--announce ${unconfirmed[0]} if it is reachable from outside, or --autonat to have peers confirm it` }
      : d.reachability === 'private'
        ? { name: 'reach', status: 'warn', detail: `${d.network}: listens on private addresses only (port ${ports})`, fix: 'forward a port and --announce the public address, or --relay-client; --autonat checks it' }
      : { name: 'reach', status: autonat ? 'skip' : 'warn', detail: `${d.network}: reachability unknown${autonat ? ' yet (AutoNAT asks peers)' : ''}`, ...(autonat ? {} : { fix: 'start the node with --autonat to learn it' }) }
  const relay: Check = d.relay === 'reserved'
    ? { name: 'relay', status: 'ok', detail: `${d.network}: reservation on ${d.relays.map(shortId).join(', ')}` }
    : d.relay === 'searching'
      ? { name: 'relay', status: 'warn', detail: `${d.network}: no relay reservation yet`, fix: 'a peer started with --relay-server must be reachable' }
      : { name: 'relay', status: 'skip', detail: `${d.network}: relay client off (--relay-client to be reachable behind NAT)` }
  return [reach, relay]
}

/** The NAT between this host and a STUN server: none, one that keeps ports (punchable), or one that changes them. */
export async function checkNat (servers: Array<{ host: string, port: number }>): Promise<Check> {
  if (servers.length === 0) return { name: 'nat', status: 'skip', detail: 'NAT type unknown: no STUN server', fix: 'dms-net netcheck --stun HOST:PORT (or start the node with --stun)' }
  const local = new Set(Object.values(networkInterfaces()).flatMap((list) => (list ?? []).map((i) => i.address)))
  for (const server of servers) {
    try {
      const mapping = await stunMapping(server, 3000)
      const where = `${server.host}:${server.port} sees ${mapping.mappedIp}:${mapping.mappedPort}`
      if (local.has(mapping.mappedIp)) return { name: 'nat', status: 'ok', detail: `no NAT: ${where}, an address of this host` }
      if (mapping.mappedPort === mapping.localPort) return { name: 'nat', status: 'ok', detail: `NAT keeps ports: ${where} (hole punching works)` }
      return { name: 'nat', status: 'warn', detail: `NAT changes ports (symmetric): ${where} for local port ${mapping.localPort}`, fix: 'direct paths need the other side reachable; otherwise traffic is relayed' }
    } catch (err) {
      if (server === servers.at(-1)) return { name: 'nat', status: 'fail', detail: `no STUN answer from ${server.host}:${server.port}: ${(err as Error).message}`, fix: 'check the STUN server address and that TCP to it is allowed' }
    }
  }
  return { name: 'nat', status: 'skip', detail: 'NAT type unknown' }
}

/** The largest clock difference to a connected peer: key exchange and signed tables carry times. */
export function checkClock (skews: ClockSkew[]): Check {
  const measured = skews.filter((s) => s.skewMs != null)
  if (measured.length === 0) {
    const detail = skews.length === 0 ? 'no connected peer to compare clocks with' : `no peer told its time (${skews[0]!.error ?? 'no answer'})`
    return { name: 'clock', status: 'skip', detail }
  }
  const worst = measured.reduce((a, b) => Math.abs(b.skewMs!) > Math.abs(a.skewMs!) ? b : a)
  const seconds = (Math.abs(worst.skewMs!) / 1000).toFixed(1)
  const detail = `${seconds} s ${worst.skewMs! >= 0 ? 'behind' : 'ahead of'} ${shortId(worst.peer)} (largest of ${measured.length} peer(s))`
  if (Math.abs(worst.skewMs!) <= 2000) return { name: 'clock', status: 'ok', detail }
  return { name: 'clock', status: 'warn', detail, fix: 'synchronise the clocks: timedatectl set-ntp true' }
}
