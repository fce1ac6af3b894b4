// VPN daemons in test namespaces, driven through the CLI as an operator would.
import { runCli, startDaemon } from './cli.js'
import type { Namespace } from '../../runtime/netdev/netns.js'
import type { VpnStatus } from '../../runtime/vpn/vpn-service.js'

export interface VpnHost { ns: Namespace, ip: string, dir: string, id: string, address: string, daemon: Awaited<ReturnType<typeof startDaemon>> }

/** A daemon listening on the host's IP, port 4001, with `flags` (e.g. `--vpn-accept PEER`). */
export async function startVpnHost (host: { ns: Namespace, ip: string }, dir: string, flags: string[]): Promise<VpnHost> {
  const daemon = await startDaemon(['--data', dir, '--listen', `/ip4/${host.ip}/tcp/4001`, ...flags], { namespace: host.ns.name })
  return { ...host, dir, id: daemon.peerId, address: `/ip4/${host.ip}/tcp/4001/p2p/${daemon.peerId}`, daemon }
}

/** `dms-net vpn ARGS --json` against the host's daemon; its status, also from a command that failed but printed one. */
export async function vpnCli (host: VpnHost, ...args: string[]): Promise<VpnStatus> {
  const result = await runCli(['vpn', ...args, '--json', '--data', host.dir], 60_000)
  if (result.code !== 0 && result.stdout === '') throw new Error(`vpn ${args.join(' ')} failed: ${result.stderr}`)
  return JSON.parse(result.stdout) as VpnStatus
}
