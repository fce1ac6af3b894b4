import { run } from './run.js'

/** Where a device command runs: the caller's namespace, or a named one (`ip -n NAME`). */
export interface InNamespace {
  /** Network namespace name. @default the caller's own */
  namespace?: string
}

export const ipArgs = (where: InNamespace, args: string[]): string[] => where.namespace != null ? ['-n', where.namespace, ...args] : args

/** Give a device an address (`10.88.0.1/24`) and bring it up with an MTU. */
export async function configureLink (device: string, init: InNamespace & { address?: string, mtu?: number }): Promise<void> {
  if (init.address != null) await run('ip', ipArgs(init, ['addr', 'add', init.address, 'dev', device]))
  await run('ip', ipArgs(init, ['link', 'set', device, ...(init.mtu != null ? ['mtu', String(init.mtu)] : []), 'up']))
}

/** Delete a link; a link that is already gone is not an error. */
export async function deleteLink (device: string, where: InNamespace = {}): Promise<void> {
  await run('ip', ipArgs(where, ['link', 'delete', device])).catch((err: Error) => {
    if (!/Cannot find device|does not exist/.test(err.message)) throw err
  })
}

/** Names of the links that exist (in a namespace). */
export async function listLinks (where: InNamespace = {}): Promise<string[]> {
  const lines = (await run('ip', ipArgs(where, ['-o', 'link', 'show']))).split('\n')
  return lines.map((line) => line.split(': ')[1]?.split('@')[0]).filter((name): name is string => name != null && name !== '')
}
