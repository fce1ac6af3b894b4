import { randomBytes } from 'node:crypto'
import { run } from './run.js'
import type { RunOptions } from './run.js'

/** A network namespace made by us, deleted by `delete()` (idempotent). */
export interface Namespace {
  readonly name: string
  /** Run a command inside the namespace. */
  exec: (command: string, args: string[], options?: RunOptions) => Promise<string>
  delete: () => Promise<void>
}

/** Create a namespace with a unique name (`prefix-<random>`), loopback up. */
export async function createNamespace (prefix = 'dms'): Promise<Namespace> {
  const name = `${prefix}-${randomBytes(4).toString('hex')}`
  await run('ip', ['netns', 'add', name])
  let deleted = false
  const namespace: Namespace = {
    name,
    exec: async (command, args, options) => await run('ip', ['netns', 'exec', name, command, ...args], options),
    delete: async () => {
      if (deleted) return
      deleted = true
      await run('ip', ['netns', 'delete', name]).catch(() => {}) // already gone: nothing left to delete
    }
  }
  await namespace.exec('ip', ['link', 'set', 'lo', 'up']).catch(async (err: unknown) => { await namespace.delete(); throw err })
  return namespace
}

/** Names of the namespaces that exist now. */
export async function listNamespaces (): Promise<string[]> {
  return (await run('ip', ['netns', 'list'])).split('\n').map((line) => line.split(' ')[0]!).filter((name) => name !== '')
}
