import { execFile, spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'

export const cliPath = fileURLToPath(new URL('../../bin/dms-net.js', import.meta.url))

export interface CliResult { code: number, stdout: string, stderr: string }

/** Run `dms-net ...args` to completion. */
export async function runCli (args: string[], timeoutMs = 30_000, env: NodeJS.ProcessEnv = {}): Promise<CliResult> {
  return await new Promise((resolve) => {
    execFile(process.execPath, [cliPath, ...args], { timeout: timeoutMs, env: { ...process.env, ...env } }, (error, stdout, stderr) => {
      resolve({ code: error == null ? 0 : typeof error.code === 'number' ? error.code : 1, stdout, stderr })
    })
  })
}

/** A `dms-net node` daemon in the background (optionally in a namespace); resolves once it prints its control socket. */
export { spawnNode as startDaemon } from '../../runtime/cli/spawn-node.js'

export interface RunningCli {
  /** Everything printed on stdout so far. */
  stdout: () => string
  stderr: () => string
  /** Resolves with stdout once `pattern` matches it; rejects after `timeoutMs`. */
  waitFor: (pattern: RegExp, timeoutMs?: number) => Promise<string>
  /** SIGINT (as Ctrl-C), SIGKILL after 5 s; resolves with the exit code. */
  stop: () => Promise<number | null>
  exited: Promise<number | null>
}

/** Run a long-lived `dms-net ...args` (receive, jobs --follow, events) in the background. */
export function startCli (args: string[]): RunningCli {
  const child = spawn(process.execPath, [cliPath, ...args], { stdio: ['ignore', 'pipe', 'pipe'] })
  let out = ''
  let err = ''
  child.stdout.on('data', (chunk: Buffer) => { out += chunk.toString() })
  child.stderr.on('data', (chunk: Buffer) => { err += chunk.toString() })
  const exited = new Promise<number | null>((resolve) => { child.once('exit', (code) => { resolve(code) }) })
  return {
    stdout: () => out,
    stderr: () => err,
    exited,
    waitFor: async (pattern, timeoutMs = 10_000) => {
      const deadline = Date.now() + timeoutMs
      while (out.match(pattern) == null) {
        if (Date.now() > deadline) throw new Error(`dms-net ${args.join(' ')} did not print ${String(pattern)} within ${timeoutMs} ms; stdout: ${out.slice(-500)} stderr: ${err.slice(-500)}`)
        if (child.exitCode != null) throw new Error(`dms-net ${args.join(' ')} exited ${child.exitCode} before printing ${String(pattern)}; stderr: ${err.slice(-500)}`)
        await new Promise((resolve) => setTimeout(resolve, 50))
      }
      return out
    },
    stop: async () => {
      if (child.exitCode == null) child.kill('SIGINT')
      const timer = setTimeout(() => { child.kill('SIGKILL') }, 5000)
      const code = await exited
      clearTimeout(timer)
      return code
    }
  }
}
