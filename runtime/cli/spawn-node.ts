import { spawn } from 'node:child_process'
import type { ChildProcess, SpawnOptionsWithStdioTuple, StdioNull, StdioPipe } from 'node:child_process'
import { join } from 'node:path'
import { packageRoot } from '../../actors/native/package-root.js'
import { DmsError } from '../errors.js'

const cliPath = join(packageRoot, 'bin', 'dms-net.js')

export interface SpawnedNode {
  child: ChildProcess
  /** The node's peer id, from its first output line. */
  peerId: string
  /** Everything it printed so far. */
  output: () => string
  /** SIGTERM (SIGKILL after `graceMs`); resolves with the exit code. */
  stop: (graceMs?: number) => Promise<number | null>
}

/**
 * Run `dms-net node ...args` in the background (inside a network namespace when
 * given: `ip netns exec` execs the node, so the child is the node itself);
 * resolves once it prints its control socket. `nodeArgs` go to node itself
 * (`--cpu-prof`, which NODE_OPTIONS does not take); `env` is added to this process's.
 */
export async function spawnNode (args: string[], options: { namespace?: string, uid?: number, timeoutMs?: number, nodeArgs?: string[], env?: NodeJS.ProcessEnv } = {}): Promise<SpawnedNode> {
  // an unprivileged node (no CAP_NET_ADMIN): how a user without root runs it
  const asUser = options.uid != null ? ['setpriv', `--reuid=${options.uid}`, `--regid=${options.uid}`, '--clear-groups', '--'] : []
  const command = [...asUser, process.execPath, ...(options.nodeArgs ?? []), cliPath, 'node', ...args]
  const spawnOptions: SpawnOptionsWithStdioTuple<StdioNull, StdioPipe, StdioPipe> = { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...options.env } }
  const child = options.namespace != null
    ? spawn('ip', ['netns', 'exec', options.namespace, ...command], spawnOptions)
    : spawn(command[0]!, command.slice(1), spawnOptions)
  let output = ''
  child.stdout!.on('data', (chunk) => { output += chunk })
  child.stderr!.on('data', (chunk) => { output += chunk })
  const exited = new Promise<number | null>((resolve) => { child.once('exit', (code) => { resolve(code) }) })
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => { child.kill('SIGKILL'); reject(new DmsError('HOST_START_FAILED', `dms-net node did not start:\n${output}`)) }, options.timeoutMs ?? 20_000)
    const check = (): void => { if (output.includes('control socket') || output.includes('"control":')) { clearTimeout(timer); resolve() } }
    child.stdout!.on('data', check)
    void exited.then((code) => { clearTimeout(timer); reject(new DmsError('HOST_START_FAILED', `dms-net node exited with ${code}:\n${output}`)) })
  })
  // the node's own id is on its node.running line: events before it (a peer that connected first) name other peers
  const peerId = /dms-net node (\S+)/.exec(output)?.[1] ?? /"type":"node\.running","peerId":"([^"]+)"/.exec(output)?.[1] ?? ''
  return {
    child,
    peerId,
    output: () => output,
    stop: async (graceMs = 5000) => {
      if (child.exitCode == null && child.signalCode == null) {
        child.kill('SIGTERM')
        const timer = setTimeout(() => { child.kill('SIGKILL') }, graceMs)
        void exited.then(() => { clearTimeout(timer) })
      }
      return await exited
    }
  }
}
