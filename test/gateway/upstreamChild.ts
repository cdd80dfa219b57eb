/**
 * The stub upstream (src/gateway/stubUpstream.ts) as a process of its own, for the benchmark: prints its base URL as
 * `{"listening": "http://127.0.0.1:<port>/v1"}`. node --import tsx test/gateway/upstreamChild.ts
 */
import { startStubUpstream } from '../../src/gateway/stubUpstream.ts'

const upstream = await startStubUpstream({ record: false })
process.stdout.write(`${JSON.stringify({ listening: upstream.url })}\n`)
