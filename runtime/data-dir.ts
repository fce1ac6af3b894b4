import { homedir } from 'node:os'
import { join } from 'node:path'

/** The environment variable that picks the data directory when no --data / dataDir is given. */
export const DATA_DIR_ENV = 'DMS_NET_DATA'

/** `$DMS_NET_DATA`, or `~/.dms-net`. */
export const defaultDataDir = (): string => {
  const fromEnv = process.env[DATA_DIR_ENV]
  return fromEnv != null && fromEnv !== '' ? fromEnv : join(homedir(), '.dms-net')
}
