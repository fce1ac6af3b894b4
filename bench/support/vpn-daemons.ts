import { fileURLToPath } from 'node:url'
import type { Namespace } from '../../runtime/netdev/netns.js'
import { run } from '../../runtime/netdev/run.js'
import { spawnNode } from '../../runtime/cli/spawn-node.js'
import type { SpawnedNode } from '../../runtime/cli/spawn-node.js'

const cli = fileURLToPath(new URL('../../bin/dms-net.js', import.meta.url))
const sleep = async (ms: number): Promise<void> => { await new Promise((resolve) => setTimeout(resolve, ms)) }

/** A dms-net daemon a VPN bench runs inside a namespace. */
export interface Daemon { node: SpawnedNode, id: string, address: string, dir: string }

/** How a bench daemon runs: the peers whose VPN invitations it accepts, its MTU, node's own flags, dms-net's flags, its environment. */
export interface DaemonOptions { accept?: string[], mtu: number, nodeArgs?: string[], flags?: string[], env?: NodeJS.ProcessEnv }

export async function startDaemon (ns: Namespace, ip: string, port: number, dir: string, options: DaemonOptions): Promise<Daemon> {
  const accept = (options.accept ?? []).flatMap((peer) => ['--vpn-accept', peer])
  const args = ['--data', dir, '--listen', `/ip4/${ip}/tcp/${port}`, '--vpn-device', `dmsvpn${port}`, '--vpn-mtu', String(options.mtu), ...accept, ...(options.flags ?? [])]
  const node = await spawnNode(args, { namespace: ns.name, nodeArgs: options.nodeArgs, env: options.env })
  return { node, id: node.peerId, address: `/ip4/${ip}/tcp/${port}/p2p/${node.peerId}`, dir }
}

export async function dmsNet (daemon: Daemon, args: string[]): Promise<string> {
  return await run(process.execPath, [cli, ...args, '--data', daemon.dir], { timeoutMs: 60_000 })
}

export async function waitRunning (daemon: Daemon): Promise<void> {
  const deadline = Date.now() + 20_000
  while (!(JSON.parse(await dmsNet(daemon, ['vpn', 'status', '--json'])) as { state: string }).state.startsWith('running')) {
    if (Date.now() > deadline) throw new Error('the VPN member did not come up')
    await sleep(200)
  }
}

