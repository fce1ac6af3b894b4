import { DmsError } from '../errors.js'
/** A required, non-empty string parameter of a control request; a BAD_REQUEST error otherwise. */
export function textParam (params: Record<string, unknown>, name: string): string {
  const value = params[name]
  if (typeof value !== 'string' || value === '') throw new DmsError('BAD_REQUEST', `${name} is required`)
  return value
}
