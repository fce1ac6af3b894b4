import { join } from 'node:path'

/** The control socket of a running node lives in its data dir. */
export const controlSocketPath = (dataDir: string): string => join(dataDir, 'control.sock')

/** One JSON line from the CLI to the node. */
export interface ControlRequest {
  id: number
  method: string
  params?: Record<string, unknown>
}

/** One JSON line back. `event` lines stream after a `events` request until the client disconnects. */
export type ControlResponse =
  | { id: number, ok: true, result: unknown }
  | { id: number, ok: false, error: { code: string, message: string } }
  | { id: number, event: unknown }

/** Largest request line the server reads. */
export const MAX_CONTROL_LINE = 1 << 20
