// One error class and one code union for the whole package; they live in actors/ so every layer can throw them.
export { DmsError, DMS_ERROR_CODES, describeError, errorCode, isDmsErrorCode } from '../actors/errors.js'
export type { DmsErrorCode } from '../actors/errors.js'
