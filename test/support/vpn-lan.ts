// A LAN of network namespaces, each running a dms-net daemon that accepts any VPN invitation: what the
// subnet-service tests (names, published ports, rules) drive through the CLI. `close()` stops and deletes
// everything they made, echo servers included, whatever happened.
import { spawn } from 'node:child_process'
import type { ChildProcess } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createLan } from '../../runtime/netdev/lan.js'
import type { Lan } from '../../runtime/netdev/lan.js'
import type { Namespace } from '../../runtime/netdev/netns.js'
import { runCli, startDaemon } from './cli.js'

export interface LanHost { ns: Namespace, ip: string, dir: string, id: string, address: string, daemon: Awaited<ReturnType<typeof startDaemon>> }

const echoScript = join(import.meta.dirname, 'tcp-echo.ts')

export interface VpnLan {
  /** One host per daemon, in LAN order. */
  hosts: LanHost[]
  /** Every namespace, those without a daemon too (a host outside the VPN). */
  lan: Lan
  /** Start a TCP echo server in `ns` on `host:port`; resolves once it listens. */
  serveEcho: (ns: Namespace, host: string, port: number) => Promise<void>
  close: () => Promise<void>
}

/** `count` namespaces on one switch; the first `daemons` of them run a daemon (all by default). */
export async function startVpnLan (count: number, options: { daemons?: number, prefix?: string, extraArgs?: string[] } = {}): Promise<VpnLan> {
  const hosts: LanHost[] = []
  const dirs: string[] = []
  const servers: ChildProcess[] = []
  const lan = await createLan(count)
  const close = async (): Promise<void> => {
    for (const server of servers) server.kill()
    for (const host of hosts) await host.daemon.stop().catch(() => {}) // best effort: the namespaces go next
    await lan.destroy()
    for (const dir of dirs) await rm(dir, { recursive: true, force: true })
  }
  try {
    for (const host of lan.hosts.slice(0, options.daemons ?? count)) {
      const dir = await mkdtemp(join(tmpdir(), options.prefix ?? 'dms-lan-'))
      dirs.push(dir)
      const daemon = await startDaemon(['--data', dir, '--listen', `/ip4/${host.ip}/tcp/4001`, '--vpn-accept', 'any', ...(options.extraArgs ?? [])], { namespace: host.ns.name })
      hosts.push({ ...host, dir, id: daemon.peerId, address: `/ip4/${host.ip}/tcp/4001/p2p/${daemon.peerId}`, daemon })
    }
  } catch (err) {
    await close()
    throw err
  }
  const serveEcho = async (ns: Namespace, host: string, port: number): Promise<void> => await new Promise((resolve, reject) => {
    const child = spawn('ip', ['netns', 'exec', ns.name, process.execPath, '--import', 'tsx', echoScript, 'server', host, String(port)], { stdio: ['ignore', 'pipe', 'inherit'] })
    servers.push(child)
    child.stdout.on('data', (chunk: Buffer) => { if (chunk.toString().includes('listening')) resolve() })
    child.once('exit', (code) => { reject(new Error(`echo server exited ${code}`)) })
  })
  return { hosts, lan, serveEcho, close }
}

/** `dms-net ARGS --json` against a host's daemon; a non-zero exit throws with its output. */
export async function cliJson<T> (host: LanHost, args: string[]): Promise<T> {
  const result = await runCli([...args, '--json', '--data', host.dir], 60_000)
  if (result.code !== 0) throw new Error(`${args.join(' ')} failed (${result.code}): ${result.stderr}${result.stdout}`)
  return JSON.parse(result.stdout) as T
}

/** Real bytes through `host:port` from inside `from`'s namespace: 'echoed N' or 'failed <why>'. */
export async function echoFrom (from: Namespace, host: string, port: number, bytes = 65536): Promise<string> {
  return (await from.exec(process.execPath, ['--import', 'tsx', echoScript, 'client', host, String(port), String(bytes)], { timeoutMs: 20_000 }).catch((err: Error) => err.message)).trim()
}
