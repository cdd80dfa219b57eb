// snarkjs ships no types; the few entry points fomo-kit calls are typed where they are used.
declare module 'snarkjs'
