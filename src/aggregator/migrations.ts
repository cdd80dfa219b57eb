/**
 * Versioned schema migrations, applied in order, each in its own transaction
 * and recorded in schema_migrations. Never edit a released migration: add one.
 */
import type { Sql } from './sql.ts'

export const MIGRATIONS: Array<{ version: number; name: string; sql: string }> = [
  {
    version: 1,
    name: 'receipts, epochs, inputs, rewards, artifacts',
    sql: `
      CREATE TABLE config (
        id int PRIMARY KEY CHECK (id = 1),
        document jsonb NOT NULL
      );
      CREATE TABLE providers (
        deployment_id bytea NOT NULL,
        provider bytea NOT NULL,
        revoked boolean NOT NULL DEFAULT false,
        PRIMARY KEY (deployment_id, provider)
      );
      CREATE TABLE epochs (
        epoch bigint PRIMARY KEY,
        status text NOT NULL CHECK (status IN ('open', 'sealed')),
        spend_root text,
        reward_root text,
        manifest_sha256 text
      );
      -- The digest is the receipt's identity; epoch leads the key so the table can be
      -- partitioned by epoch (the digest commits to the epoch, so uniqueness is unchanged).
      CREATE TABLE receipts (
        epoch bigint NOT NULL,
        provider bytea NOT NULL,
        digest bytea NOT NULL,
        deployment_id bytea NOT NULL,
        user_address bytea NOT NULL,
        request_id bytea NOT NULL,
        ts bigint NOT NULL,
        input_tokens bigint NOT NULL,
        output_tokens bigint NOT NULL,
        gross numeric(20, 0) NOT NULL CHECK (gross > 0),
        discount_bps int NOT NULL CHECK (discount_bps BETWEEN 0 AND 10000),
        charged numeric(20, 0) NOT NULL CHECK (charged >= 0 AND charged <= gross),
        signature bytea,
        batch_root bytea,
        PRIMARY KEY (epoch, provider, digest),
        UNIQUE (epoch, provider, request_id),
        CHECK ((signature IS NULL) <> (batch_root IS NULL))
      );
      CREATE INDEX receipts_spend ON receipts (epoch, deployment_id, user_address);
      CREATE TABLE batches (
        epoch bigint NOT NULL,
        provider bytea NOT NULL,
        receipts_root bytea NOT NULL,
        document text NOT NULL,
        PRIMARY KEY (epoch, provider, receipts_root)
      );
      CREATE TABLE epoch_inputs (
        epoch bigint NOT NULL,
        deployment_id bytea NOT NULL,
        opex numeric(78, 0) NOT NULL,
        circulating numeric(78, 0),
        PRIMARY KEY (epoch, deployment_id)
      );
      CREATE TABLE stakes (
        epoch bigint NOT NULL,
        deployment_id bytea NOT NULL,
        account bytea NOT NULL,
        stake numeric(78, 0) NOT NULL,
        PRIMARY KEY (epoch, deployment_id, account)
      );
      CREATE TABLE rewards (
        epoch bigint NOT NULL,
        account bytea NOT NULL,
        token bytea NOT NULL,
        amount numeric(78, 0) NOT NULL CHECK (amount > 0),
        PRIMARY KEY (epoch, account, token)
      );
      CREATE TABLE artifacts (
        epoch bigint NOT NULL,
        name text NOT NULL,
        content bytea NOT NULL,
        sha256 text NOT NULL,
        PRIMARY KEY (epoch, name)
      );
    `,
  },
  {
    version: 2,
    name: 'epoch_inputs: where the stake snapshot was read (MTStaking contract, snapshot block)',
    sql: `ALTER TABLE epoch_inputs ADD COLUMN snapshot_staking bytea, ADD COLUMN snapshot_block numeric(20, 0);`,
  },
  {
    version: 3,
    name: 'configurations by the epoch they apply from, a version nodes notice changes by; the receipts each batch row holds',
    sql: `
      CREATE TABLE configs (
        from_epoch bigint PRIMARY KEY,
        document jsonb NOT NULL
      );
      INSERT INTO configs (from_epoch, document) SELECT 0, document FROM config WHERE id = 1;
      ALTER TABLE config ADD COLUMN version bigint NOT NULL DEFAULT 1;
      -- Indices (in the batch) of the receipts stored under this batch in this epoch; NULL: all of them.
      ALTER TABLE batches ADD COLUMN receipts int[];
    `,
  },
]

export async function migrate(sql: Sql): Promise<number> {
  await sql.exec(`CREATE TABLE IF NOT EXISTS schema_migrations (version int PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())`)
  let applied = 0
  for (const m of MIGRATIONS) {
    // Two servers starting together: the primary key lets one apply a migration, the other waits and skips it.
    await sql.transaction(async (tx) => {
      await tx.exec('LOCK TABLE schema_migrations IN EXCLUSIVE MODE')
      const done = await tx.query<{ version: number }>('SELECT version FROM schema_migrations WHERE version = $1', [m.version])
      if (done.length > 0) return
      await tx.exec(m.sql)
      await tx.query('INSERT INTO schema_migrations (version, name) VALUES ($1, $2)', [m.version, m.name])
      applied++
    })
  }
  return applied
}
