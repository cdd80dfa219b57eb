// Worker entry: loads the TypeScript verifier through tsx, then serves jobs.
import { register } from 'tsx/esm/api'

register()
await import('./verifyWorkerMain.ts')
