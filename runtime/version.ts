import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { packageRoot } from '../actors/native/package-root.js'

/** This package's version, from its package.json. */
export const packageVersion: string = (JSON.parse(readFileSync(join(packageRoot, 'package.json'), 'utf8')) as { version: string }).version

/** What identify tells peers this node runs. */
export const agentVersion = `dms-network/${packageVersion}`
