import { spawn } from 'node:child_process'
import type { Namespace } from '../../runtime/netdev/netns.js'
import { DmsError } from '../../runtime/errors.js'

/** A STUN server (coturn's `turnserver`, STUN only) running in a namespace. */
export interface StunServer {
  /** `ip:port`, as `--stun` takes it. */
  address: string
  stop: () => Promise<void>
}

/**
 * Start coturn as a plain STUN server (no TURN, no TLS, no auth) on `ip:port`
 * inside `ns`, for hole-punching tests and benchmarks on the NAT topology
 * (test/support/nat-topology.ts). Resolves once it listens on TCP; `stop()` kills it.
 */
export async function startStunServer (ns: Namespace, ip: string, port = 3478): Promise<StunServer> {
  const child = spawn('ip', ['netns', 'exec', ns.name, 'turnserver', '-n', '--stun-only', '--no-cli', '--no-tls', '--no-dtls',
    '--listening-ip', ip, '--listening-port', String(port), '--log-file', 'stdout', '--simple-log'], { stdio: ['ignore', 'ignore', 'pipe'] })
  let stderr = ''
  child.stderr.on('data', (chunk: Buffer) => { stderr = (stderr + String(chunk)).slice(-2000) })
  const exited = new Promise<void>((resolve) => { child.once('exit', () => { resolve() }) })
  const stop = async (): Promise<void> => {
    if (child.exitCode == null && child.signalCode == null) child.kill('SIGTERM')
    await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 3000))])
    if (child.exitCode == null && child.signalCode == null) child.kill('SIGKILL')
  }
  const deadline = Date.now() + 10_000
  while (Date.now() < deadline) {
    if (child.exitCode != null) throw new DmsError('COMMAND_FAILED', `turnserver exited with ${child.exitCode}: ${stderr.trim()}`)
    const listening = await ns.exec('ss', ['-ltnH', `sport = :${port}`]).catch(() => '')
    if (listening.includes(`:${port}`)) return { address: `${ip}:${port}`, stop }
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
  await stop()
  throw new DmsError('COMMAND_FAILED', `turnserver did not listen on ${ip}:${port} within 10 s: ${stderr.trim()}`)
}
